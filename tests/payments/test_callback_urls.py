"""Found by the audit (issue 16): `callback_url` took any host, so a payment could send the payer from 3-D
Secure to any site (an open redirect under the app's name). PAYMENT_CALLBACK_ALLOWED names the origins."""

import os
import subprocess
import sys

import pytest

from backend.payments.models import Payment
from backend.payments.serializers import callback_url_allowed
from tests.payments.conftest import CALLBACK, pay
from tests.support.api import error_code

pytestmark = pytest.mark.django_db

ALLOWED = ["https://app.example.com", "https://pay.example.org:8443/return/"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (CALLBACK, True),
        ("https://APP.example.com/paid?booking=1", True),
        ("https://app.example.com", True),
        ("https://pay.example.org:8443/return", True),
        ("https://pay.example.org:8443/return/done?x=1", True),
        ("https://pay.example.org:8443/returned", False),  # a path prefix is whole segments
        ("https://pay.example.org/return/done", False),  # another port
        ("https://evil.example.net/paid", False),  # the audit's request
        ("http://app.example.com/paid", False),  # another scheme
        ("https://app.example.com.evil.net/paid", False),
        ("https://app.example.com@evil.net/paid", False),
        ("https://evil.net/?next=https://app.example.com", False),
    ],
)
def test_only_allowed_origins_and_paths(settings, url, allowed):
    settings.PAYMENT_CALLBACK_ALLOWED = ALLOWED
    assert callback_url_allowed(url) is allowed


def test_no_list_allows_any_address_for_development(settings):
    settings.PAYMENT_CALLBACK_ALLOWED = []
    assert callback_url_allowed("https://anything.example.net/x")


def test_a_payment_to_another_host_is_a_400_and_nothing_is_made(settings, moyasar, client, booking):
    settings.PAYMENT_CALLBACK_ALLOWED = ALLOWED
    response = pay(client, booking, callback_url="https://evil.example.net/paid", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert response.json()["error"]["fields"] == {"callback_url": ["This return address is not allowed."]}
    assert not Payment.objects.exists() and moyasar.journal() == []
    assert pay(client, booking).status_code == 201  # CALLBACK is under an allowed origin


@pytest.mark.parametrize("entry", ["app.example.com", "myapp://paid", "https://a.example?x=1"])
def test_a_malformed_entry_stops_the_start(entry):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "PAYMENT_CALLBACK_ALLOWED": entry},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "PAYMENT_CALLBACK_ALLOWED entries must look like" in result.stderr
