"""`manage.py check --deploy` (the release step): each setting that is fine in development and dangerous in
production has its own error, and a production-ready configuration has none. salon.E006 has its own tests
in tests/payments/test_deploy_checks.py."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from backend.core.checks import DEVELOPMENT_SECRET_KEY, providers_are_real, secrets_are_production_grade


@pytest.fixture
def production_ready(settings):
    settings.OTP_PROVIDER = settings.SMS_PROVIDER = "authentica"
    settings.AUTHENTICA_API_KEY = "key"
    settings.UNIFONIC_APP_SID = ""
    settings.MOYASAR_SECRET_KEY = "sk_live_x"
    settings.MOYASAR_WEBHOOK_SECRET = "whsec"
    settings.PAYMENT_CALLBACK_ALLOWED = ["https://app.example.com"]
    return settings


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"OTP_PROVIDER": "console"}, ["salon.E001"]),
        ({"SMS_PROVIDER": "console"}, ["salon.E002"]),
        ({"AUTHENTICA_API_KEY": ""}, ["salon.E003"]),
        # Authentica only for login codes still needs its key.
        ({"SMS_PROVIDER": "unifonic", "UNIFONIC_APP_SID": "sid", "AUTHENTICA_API_KEY": ""}, ["salon.E003"]),
        ({"SMS_PROVIDER": "unifonic"}, ["salon.E004"]),
        # No provider uses Authentica: its empty key is no error, the console ones are.
        (
            {"OTP_PROVIDER": "console", "SMS_PROVIDER": "console", "AUTHENTICA_API_KEY": ""},
            ["salon.E001", "salon.E002"],
        ),
        ({"MOYASAR_SECRET_KEY": ""}, ["salon.E005"]),
        ({"PAYMENT_CALLBACK_ALLOWED": []}, ["salon.E011"]),  # an open redirect after 3-D Secure
    ],
)
def test_each_dangerous_setting_has_its_own_error(production_ready, changes, expected):
    for name, value in changes.items():
        setattr(production_ready, name, value)
    errors = providers_are_real(None)
    assert [error.id for error in errors] == expected
    assert all(error.is_serious() for error in errors)  # each one stops the release step


# --- Secrets and debug (issue 16: the release step passed with DEBUG on, the dev key and a 1-char key) ---
STRONG = "k3y-" + "".join(chr(ord("a") + i % 26) for i in range(60))  # 64 characters, 27 different ones


@pytest.fixture
def strong_secrets(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = STRONG
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": STRONG}
    settings.OTP_HASH_KEY = STRONG
    return settings


def secret_errors() -> list[str]:
    return [error.id for error in secrets_are_production_grade(None)]


def test_the_development_key_is_the_one_make_run_uses():
    from scripts.devservices import DEV_DEFAULTS

    assert DEV_DEFAULTS["DJANGO_SECRET_KEY"] == DEVELOPMENT_SECRET_KEY


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"DEBUG": True}, ["salon.E007"]),
        # The key falls back for JWTs and code hashes: one error, under DJANGO_SECRET_KEY's name.
        ({"SECRET_KEY": "x", "JWT": "x", "OTP_HASH_KEY": "x"}, ["salon.E008"]),
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY, "JWT": DEVELOPMENT_SECRET_KEY}, ["salon.E008"]),
        ({"SECRET_KEY": "ab" * 40}, ["salon.E008"]),  # long, but only 2 different characters
        ({"SECRET_KEY": "django-insecure-" + STRONG}, ["salon.E008"]),
        ({"JWT": "x"}, ["salon.E009"]),
        ({"JWT": DEVELOPMENT_SECRET_KEY}, ["salon.E009"]),
        ({"OTP_HASH_KEY": STRONG[:49]}, ["salon.E010"]),
        (
            {"DEBUG": True, "JWT": "short", "OTP_HASH_KEY": "short"},
            ["salon.E007", "salon.E009", "salon.E010"],
        ),
    ],
)
def test_debug_and_weak_keys_are_errors(strong_secrets, changes, expected):
    for name, value in changes.items():
        if name == "JWT":
            strong_secrets.SIMPLE_JWT = {**strong_secrets.SIMPLE_JWT, "SIGNING_KEY": value}
        else:
            setattr(strong_secrets, name, value)
    errors = secrets_are_production_grade(None)
    assert [error.id for error in errors] == expected
    assert all(error.is_serious() for error in errors)


def test_a_weak_secret_key_names_what_it_also_signs(strong_secrets):
    strong_secrets.SECRET_KEY = strong_secrets.OTP_HASH_KEY = "x"
    strong_secrets.SIMPLE_JWT = {**strong_secrets.SIMPLE_JWT, "SIGNING_KEY": "x"}
    (error,) = secrets_are_production_grade(None)
    assert "JWT" in error.msg and error.hint


@pytest.mark.parametrize(
    ("changes", "error_id"),
    [
        ({"DEBUG": True}, "E007"),
        ({"SECRET_KEY": "x"}, "E008"),
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "E008"),
    ],
)
def test_the_release_step_stops_on_them(production_ready, strong_secrets, changes, error_id):
    """The audit's three cases, through the command the release step runs (Procfile, compose)."""
    call_command("check", "--deploy", "--fail-level", "ERROR")
    for name, value in changes.items():
        setattr(strong_secrets, name, value)
    with pytest.raises(SystemCheckError, match=rf"salon\.{error_id}"):
        call_command("check", "--deploy", "--fail-level", "ERROR")


def test_development_settings_pass_the_plain_check(settings):
    """`make run` (DEBUG on, the dev key) runs `migrate`, which runs the checks without --deploy."""
    settings.DEBUG = True
    settings.SECRET_KEY = DEVELOPMENT_SECRET_KEY
    call_command("check", "--fail-level", "ERROR")
