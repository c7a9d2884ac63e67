"""End to end against the real Authentica: a real SMS with a code reaches a real phone, and logs in.

Runs only when AUTHENTICA_E2E=1, AUTHENTICA_API_KEY, AUTHENTICA_E2E_PHONE (a Saudi mobile you hold) and
AUTHENTICA_E2E_CODE (the 6 digits to send, so you can check the SMS) are set:

    AUTHENTICA_E2E=1 AUTHENTICA_API_KEY=... AUTHENTICA_E2E_PHONE=05... AUTHENTICA_E2E_CODE=482913 \\
        make test ARGS="-m external"
"""

import os

import pytest

from backend.core.phone import phone_normalize_for_login
from tests.accounts.support import request_code, verify

E2E_VARIABLES = ("AUTHENTICA_E2E", "AUTHENTICA_API_KEY", "AUTHENTICA_E2E_PHONE", "AUTHENTICA_E2E_CODE")

pytestmark = [
    pytest.mark.external,
    pytest.mark.django_db,
    pytest.mark.skipif(
        os.environ.get("AUTHENTICA_E2E") != "1" or not all(os.environ.get(name) for name in E2E_VARIABLES),
        reason="set AUTHENTICA_E2E=1, AUTHENTICA_API_KEY, AUTHENTICA_E2E_PHONE and AUTHENTICA_E2E_CODE",
    ),
]


def test_login_through_the_real_authentica(api_client, settings, monkeypatch):
    settings.OTP_PROVIDER = "authentica"
    settings.AUTHENTICA_BASE_URL = os.environ.get("AUTHENTICA_BASE_URL", "https://api.authentica.sa/api/v2")
    settings.AUTHENTICA_API_KEY = os.environ["AUTHENTICA_API_KEY"]
    settings.PHONE_ALLOWED_REGIONS = ["SA"]
    code = os.environ["AUTHENTICA_E2E_CODE"]
    phone = phone_normalize_for_login(os.environ["AUTHENTICA_E2E_PHONE"])
    monkeypatch.setattr("backend.accounts.services._otp_code_generate", lambda: code)
    response = request_code(api_client, phone)
    assert response.status_code == 202, response.content
    login = verify(api_client, phone, code)
    assert login.status_code == 200, login.content
    assert login.json()["user"]["phone"] == phone
