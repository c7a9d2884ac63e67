"""The provider registry's start-up check: every provider setting, so a typo stops the process instead
of failing every message at run time."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.notifications.templates import MESSAGES
from backend.providers import registry
from backend.providers.registry import configuration_problems, provider_names, providers_validate

VALID_TEMPLATES = {"booking_confirmed": {"name": "t", "languages": ["ar"], "parameters": ["salon"]}}


@pytest.fixture
def clean(settings):
    settings.OTP_PROVIDER = "authentica,unifonic"
    settings.SMS_PROVIDER = "unifonic"
    settings.FCM_PROJECT_ID = settings.FCM_CREDENTIALS_FILE = ""
    settings.WHATSAPP_TEMPLATES = {}
    settings.WHATSAPP_TOKEN = settings.WHATSAPP_PHONE_NUMBER_ID = ""
    return settings


def test_names_are_a_comma_separated_list():
    assert provider_names(" authentica , unifonic,") == ["authentica", "unifonic"]
    assert provider_names("") == []


def test_valid_settings_have_no_problems(clean):
    assert configuration_problems(messages=MESSAGES) == []
    providers_validate(messages=MESSAGES)
    assert [provider.name for provider in registry.otp_providers()] == ["authentica", "unifonic"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"OTP_PROVIDER": "authentica,unifnoic"}, "OTP_PROVIDER names an unknown provider 'unifnoic'"),
        ({"OTP_PROVIDER": " , "}, "OTP_PROVIDER is empty"),
        ({"OTP_PROVIDER": "unifonic,unifonic"}, "OTP_PROVIDER lists a provider twice"),
        ({"SMS_PROVIDER": "authentika"}, "SMS_PROVIDER must be one of authentica, unifonic, console"),
        ({"FCM_PROJECT_ID": "salon"}, "FCM_CREDENTIALS_FILE is not set"),
        ({"WHATSAPP_TEMPLATES": {"booking_confirmd": {}}}, "unknown message kind"),
        ({"WHATSAPP_TEMPLATES": VALID_TEMPLATES}, "WHATSAPP_TOKEN or WHATSAPP_PHONE_NUMBER_ID is not"),
    ],
)
def test_each_problem_is_named(clean, changes, problem):
    for name, value in changes.items():
        setattr(clean, name, value)
    assert any(problem in text for text in configuration_problems(messages=MESSAGES)), configuration_problems(
        messages=MESSAGES
    )
    with pytest.raises(ImproperlyConfigured, match="Provider settings"):
        providers_validate(messages=MESSAGES)


def test_an_fcm_file_that_is_no_service_account_is_a_problem(clean, tmp_path):
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "authorized_user"}))
    clean.FCM_PROJECT_ID, clean.FCM_CREDENTIALS_FILE = "salon", str(path)
    assert any("lacks" in text for text in configuration_problems(messages=MESSAGES))


def test_push_and_whatsapp_are_on_only_when_configured(clean):
    assert not registry.push_configured() and not registry.whatsapp_configured()
    clean.FCM_PROJECT_ID, clean.FCM_CREDENTIALS_FILE = "salon", "/x.json"
    clean.WHATSAPP_TOKEN, clean.WHATSAPP_PHONE_NUMBER_ID = "t", "1"
    clean.WHATSAPP_TEMPLATES = VALID_TEMPLATES
    assert registry.push_configured() and registry.whatsapp_configured()


def test_the_worker_refuses_to_start_with_a_typo(tmp_path):
    """A real process: django.setup() runs the check, so a misspelt provider never reaches a message."""
    import subprocess
    import sys

    from tests.support.processes import ROOT, child_env

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=child_env(SMS_PROVIDER="unifnoic"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SMS_PROVIDER must be one of" in result.stderr
