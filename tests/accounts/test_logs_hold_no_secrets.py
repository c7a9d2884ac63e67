"""A whole login through the real Authentica client leaves nothing secret in the logs: not the API key,
not the one-time code, not the access or refresh token."""

import logging

import pytest

from tests.accounts.conftest import AUTHENTICA_KEY
from tests.accounts.support import PHONE, login

pytestmark = pytest.mark.django_db


def test_a_login_logs_its_provider_call_but_no_key_code_or_token(api_client, authentica, caplog):
    with caplog.at_level(logging.DEBUG):
        tokens = login(api_client, authentica)
    code = authentica.last_otp(PHONE)
    assert "provider=authentica operation=send_otp" in caplog.text  # the call is logged...
    for secret in (AUTHENTICA_KEY, code, tokens["access"], tokens["refresh"]):
        assert secret not in caplog.text  # ...without what must stay secret
