"""`manage.py check --deploy` (the release step): each setting that is fine in development and dangerous in
production has its own error, and a production-ready configuration has none. salon.E006 has its own tests
in tests/payments/test_deploy_checks.py."""

import pytest

from backend.core.checks import providers_are_real


@pytest.fixture
def production_ready(settings):
    settings.OTP_PROVIDER = settings.SMS_PROVIDER = "authentica"
    settings.AUTHENTICA_API_KEY = "key"
    settings.UNIFONIC_APP_SID = ""
    settings.MOYASAR_SECRET_KEY = "sk_live_x"
    settings.MOYASAR_WEBHOOK_SECRET = "whsec"
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
    ],
)
def test_each_dangerous_setting_has_its_own_error(production_ready, changes, expected):
    for name, value in changes.items():
        setattr(production_ready, name, value)
    errors = providers_are_real(None)
    assert [error.id for error in errors] == expected
    assert all(error.is_serious() for error in errors)  # each one stops the release step
