"""Which provider carries a notification, chosen by SMS_PROVIDER: in process, with the real provider clients
talking HTTP to the fake provider servers."""

import logging
from collections.abc import Iterator

import pytest
import requests

from backend.core.http import ProviderError
from backend.fakes import FakeAuthentica, FakeUnifonic
from backend.notifications.models import Channel
from backend.notifications.senders import message_send
from backend.providers.base import SendResult

PHONE = "+966501234567"


@pytest.fixture
def fake_authentica(settings) -> Iterator[FakeAuthentica]:
    with FakeAuthentica(api_key="key-1") as fake:
        settings.SMS_PROVIDER = "authentica"
        settings.AUTHENTICA_BASE_URL = fake.url
        settings.AUTHENTICA_API_KEY = "key-1"
        settings.AUTHENTICA_SENDER_NAME = "SalonApp"
        yield fake


@pytest.fixture
def fake_unifonic(settings) -> Iterator[FakeUnifonic]:
    with FakeUnifonic(app_sid="sid-1") as fake:
        settings.SMS_PROVIDER = "unifonic"
        settings.UNIFONIC_BASE_URL = fake.url
        settings.UNIFONIC_APP_SID = "sid-1"
        yield fake


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
def test_console_logs_the_message_on_any_channel(settings, caplog, channel):
    settings.SMS_PROVIDER = "console"
    with caplog.at_level(logging.INFO, logger="backend.providers.console"):
        result = message_send(phone=PHONE, body="See you at 16:30", channel=channel, reference="42")
    assert result == SendResult(provider="console", message_id=None, raw=None)
    assert f"console {channel} to {PHONE} (ref 42): See you at 16:30" in caplog.text


def test_authentica_sends_the_sms(fake_authentica):
    result = message_send(phone=PHONE, body="موعدك غداً", channel=Channel.SMS, reference="42")
    assert result.provider == "authentica" and result.raw["success"] is True
    [message] = fake_authentica.messages()
    assert (message["to"], message["message"], message["sender_name"]) == (PHONE, "موعدك غداً", "SalonApp")


def test_unifonic_sends_the_sms_with_our_reference(fake_unifonic):
    result = message_send(phone=PHONE, body="مرحبا", channel=Channel.SMS, reference="42")
    [call] = fake_unifonic.journal()
    assert call["body"]["Recipient"] == "966501234567" and call["body"]["Body"] == "مرحبا"
    assert call["body"]["CorrelationID"] == "42"  # their record of it can be matched with ours
    [message] = fake_unifonic.messages()
    assert result.provider == "unifonic" and result.message_id == str(message["MessageID"])


@pytest.mark.parametrize("provider", ["authentica", "unifonic"])
def test_a_provider_waits_no_longer_than_the_notification_timeout(request, settings, monkeypatch, provider):
    fake = request.getfixturevalue(f"fake_{provider}")
    settings.NOTIFICATION_SEND_TIMEOUT_SECONDS = 0.3
    read_timeouts = []
    real_request = requests.Session.request

    def recording_request(session, method, url, **options):
        read_timeouts.append(options["timeout"][1])
        return real_request(session, method, url, **options)

    monkeypatch.setattr(requests.Session, "request", recording_request)
    fake.timeout_next(1)  # the fake hangs for 30 s: only the client's read timeout ends the call
    with pytest.raises(ProviderError) as raised:
        message_send(phone=PHONE, body="hi", channel=Channel.SMS, reference="42")
    assert (raised.value.provider, raised.value.code, raised.value.retryable) == (provider, "timeout", True)
    assert read_timeouts == [0.3]  # the notification's timeout, on the one call made
    assert [entry["fault"] for entry in fake.journal()] == ["timeout"]


@pytest.mark.parametrize("provider", ["authentica", "unifonic"])
def test_whatsapp_through_an_sms_provider_fails_for_good_and_sends_nothing(request, provider):
    fake = request.getfixturevalue(f"fake_{provider}")
    with pytest.raises(ProviderError) as raised:
        message_send(phone=PHONE, body="hi", channel=Channel.WHATSAPP, reference="42")
    assert raised.value.provider == provider and raised.value.retryable is False
    assert raised.value.message == f"{provider} cannot send whatsapp messages"
    assert fake.journal() == []


def test_an_unknown_provider_fails_for_good(settings):
    settings.SMS_PROVIDER = "carrier-pigeon"
    with pytest.raises(ProviderError) as raised:
        message_send(phone=PHONE, body="hi", channel=Channel.SMS, reference="42")
    assert raised.value.provider == "carrier-pigeon" and raised.value.retryable is False
    assert raised.value.message == "unknown SMS_PROVIDER 'carrier-pigeon'"
