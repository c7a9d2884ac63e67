"""The provider clients against the fake servers over real HTTP: the wire format each provider wants,
and how their answers become results or ProviderErrors."""

import logging
from collections.abc import Iterator

import pytest

from backend.core.http import ProviderError
from backend.fakes import FakeAuthentica, FakeUnifonic
from backend.providers import authentica, console, unifonic
from backend.providers.base import SendResult

PHONE = "+966501234567"


@pytest.fixture
def fake_authentica(settings) -> Iterator[FakeAuthentica]:
    with FakeAuthentica(api_key="key-1") as fake:
        settings.AUTHENTICA_BASE_URL = fake.url + "/"  # a trailing slash is tolerated
        settings.AUTHENTICA_API_KEY = "key-1"
        settings.AUTHENTICA_SENDER_NAME = "SalonApp"
        settings.AUTHENTICA_TEMPLATE_ID = 7
        yield fake


@pytest.fixture
def fake_unifonic(settings) -> Iterator[FakeUnifonic]:
    with FakeUnifonic(app_sid="sid-1") as fake:
        settings.UNIFONIC_BASE_URL = fake.url
        settings.UNIFONIC_APP_SID = "sid-1"
        settings.UNIFONIC_SENDER_ID = "Salon"
        yield fake


# --- Authentica -------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["sms", "whatsapp"])
def test_authentica_send_otp(fake_authentica, method):
    result = authentica.send_otp(phone=PHONE, code="048213", method=method)
    assert result == SendResult(
        provider="authentica",
        message_id=None,
        raw={"success": True, "data": None, "message": "OTP send successfully"},
    )
    [call] = fake_authentica.journal()
    assert call["body"] == {"method": method, "phone": PHONE, "template_id": 7, "otp": "048213"}
    assert call["headers"]["x-authorization"] == "key-1"
    assert call["headers"]["accept"] == "application/json"
    assert fake_authentica.last_otp(PHONE) == "048213"


def test_authentica_send_otp_only_by_sms_or_whatsapp(fake_authentica):
    with pytest.raises(ValueError, match="email"):
        authentica.send_otp(phone=PHONE, code="048213", method="email")
    assert fake_authentica.journal() == []


def test_authentica_send_sms(fake_authentica):
    result = authentica.send_sms(phone=PHONE, message="موعدك غداً", timeout=2)
    assert result.provider == "authentica"
    [message] = fake_authentica.messages()
    assert (message["to"], message["message"], message["sender_name"]) == (PHONE, "موعدك غداً", "SalonApp")
    authentica.send_sms(phone=PHONE, message="hi", sender_name="Other", timeout=2)
    assert fake_authentica.messages()[1]["sender_name"] == "Other"


def test_authentica_refusals(fake_authentica, settings):
    settings.AUTHENTICA_API_KEY = "wrong"
    with pytest.raises(ProviderError) as raised:
        authentica.send_sms(phone=PHONE, message="hi", timeout=2)
    assert (raised.value.status, raised.value.retryable, raised.value.code) == (401, False, "http_401")
    settings.AUTHENTICA_API_KEY = "key-1"
    fake_authentica.fail_next(1, status=200, body={"success": False, "message": "no balance"})
    with pytest.raises(ProviderError) as raised:
        authentica.send_otp(phone=PHONE, code="048213", method="sms")
    assert (raised.value.status, raised.value.retryable) == (200, False)
    fake_authentica.fail_next(1, status=503)
    with pytest.raises(ProviderError) as raised:
        authentica.send_sms(phone=PHONE, message="hi", timeout=2)
    assert (raised.value.status, raised.value.retryable) == (503, True)


def test_authentica_timeout(fake_authentica, settings):
    settings.OTP_SEND_TIMEOUT_SECONDS = 0.2
    fake_authentica.timeout_next(1)
    with pytest.raises(ProviderError) as raised:
        authentica.send_otp(phone=PHONE, code="048213", method="sms")
    assert (raised.value.code, raised.value.retryable) == ("timeout", True)
    assert len(fake_authentica.journal()) == 1


def test_authentica_connection_dropped_is_not_retried(fake_authentica):
    fake_authentica.down = True  # accepts the request, then closes without an answer
    with pytest.raises(ProviderError) as raised:
        authentica.send_sms(phone=PHONE, message="hi", timeout=2)
    assert (raised.value.code, raised.value.retryable) == ("connection_error", True)
    assert len(fake_authentica.journal()) == 1


# --- Unifonic ---------------------------------------------------------------------------------------
def test_unifonic_send_sms(fake_unifonic):
    result = unifonic.send_sms(recipient=PHONE, body="مرحبا", correlation_id="notification-42", timeout=2)
    [call] = fake_unifonic.journal()
    assert call["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert call["body"] == {
        "AppSid": "sid-1",
        "SenderID": "Salon",
        "Recipient": "966501234567",
        "Body": "مرحبا",
        "CorrelationID": "notification-42",
    }
    [message] = fake_unifonic.messages()
    assert result.provider == "unifonic" and result.message_id == str(message["MessageID"])
    assert result.raw["data"]["CorrelationID"] == "notification-42"


def test_unifonic_without_correlation_id(fake_unifonic):
    unifonic.send_sms(recipient=PHONE, body="hi", timeout=2)
    assert "CorrelationID" not in fake_unifonic.journal()[0]["body"]


def test_unifonic_duplicate_correlation_id_is_a_success_already_sent(fake_unifonic):
    first = unifonic.send_sms(recipient=PHONE, body="hi", correlation_id="notification-7", timeout=2)
    again = unifonic.send_sms(recipient=PHONE, body="hi", correlation_id="notification-7", timeout=2)
    assert first.message_id and again == SendResult(
        provider="unifonic", message_id=None, raw={"duplicate_of": "notification-7"}
    )
    assert len(fake_unifonic.messages()) == 1


def test_unifonic_409_without_correlation_id_is_a_failure(fake_unifonic):
    fake_unifonic.fail_next(1, status=409)
    with pytest.raises(ProviderError) as raised:
        unifonic.send_sms(recipient=PHONE, body="hi", timeout=2)
    assert (raised.value.status, raised.value.retryable) == (409, False)


def test_unifonic_success_without_a_message_id(fake_unifonic):
    fake_unifonic.fail_next(1, status=200, body={"success": True, "errorCode": "ER-00", "data": None})
    assert unifonic.send_sms(recipient=PHONE, body="hi", timeout=2).message_id is None


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (402, None, "ER-01", False),
        (
            482,
            {"success": False, "message": "Dest num is too short", "errorCode": "ER-04", "data": {}},
            "ER-04",
            False,
        ),
        (
            200,
            {"success": False, "message": "Invalid sender", "errorCode": "ER-05", "data": {}},
            "ER-05",
            False,
        ),
        (429, None, "ER-429", True),
        (500, None, "ER-500", True),
    ],
)
def test_unifonic_failures(fake_unifonic, status, body, code, retryable):
    fake_unifonic.fail_next(1, status=status, body=body)
    with pytest.raises(ProviderError) as raised:
        unifonic.send_sms(recipient=PHONE, body="hi", timeout=2)
    assert (raised.value.provider, raised.value.status, raised.value.code) == ("unifonic", status, code)
    assert raised.value.retryable is retryable


def test_unifonic_wrong_app_sid(fake_unifonic, settings):
    settings.UNIFONIC_APP_SID = "wrong"
    with pytest.raises(ProviderError) as raised:
        unifonic.send_sms(recipient=PHONE, body="hi", timeout=2)
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (402, "ER-01", False)


# --- Console ----------------------------------------------------------------------------------------
def test_console_logs(caplog):
    with caplog.at_level(logging.INFO, logger="backend.providers.console"):
        assert console.send_otp(phone=PHONE, code="048213", method="sms").provider == "console"
        result = console.send_message(phone=PHONE, body="Your booking", channel="whatsapp", reference="42")
    assert result == SendResult(provider="console", message_id=None, raw=None)
    assert "048213" in caplog.text and "Your booking" in caplog.text
