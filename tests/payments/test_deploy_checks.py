"""salon.E006: going live without MOYASAR_WEBHOOK_SECRET would refuse every webhook."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from backend.core.checks import providers_are_real
from tests.core.test_deploy_checks import STRONG


@pytest.fixture
def production_ready(settings):
    settings.OTP_PROVIDER = settings.SMS_PROVIDER = "authentica"
    settings.AUTHENTICA_API_KEY = "key"
    settings.MOYASAR_SECRET_KEY = "sk_live_x"
    settings.MOYASAR_WEBHOOK_SECRET = "whsec"
    settings.PAYMENT_CALLBACK_ALLOWED = ["https://app.example.com"]
    # A production key, not the development one the tests run with (salon.E008).
    settings.SECRET_KEY = settings.OTP_HASH_KEY = STRONG
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": STRONG}
    return settings


def ids(_settings) -> list[str]:
    return [error.id for error in providers_are_real(None)]


def test_an_empty_webhook_secret_is_e006(production_ready):
    assert ids(production_ready) == []
    production_ready.MOYASAR_WEBHOOK_SECRET = ""
    assert ids(production_ready) == ["salon.E006"]
    production_ready.MOYASAR_SECRET_KEY = ""
    assert ids(production_ready) == ["salon.E005", "salon.E006"]


def test_the_release_step_refuses_an_empty_webhook_secret(production_ready):
    call_command("check", "--deploy", "--fail-level", "ERROR", "--tag", "security")
    production_ready.MOYASAR_WEBHOOK_SECRET = ""
    with pytest.raises(SystemCheckError, match=r"salon\.E006.*MOYASAR_WEBHOOK_SECRET"):
        call_command("check", "--deploy", "--fail-level", "ERROR", "--tag", "security")
