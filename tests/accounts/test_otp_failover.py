"""OTP_PROVIDER as an ordered list: a failed send goes to the next provider within the same request and
the send budget; a provider that keeps failing is skipped for a cool-down shared through Redis; ops see
which provider sent (metrics, the login code's row)."""

import dataclasses

import pytest
from django.core.cache import cache

from backend.accounts import otp_delivery
from backend.accounts.models import OtpChallenge
from backend.accounts.otp_delivery import MIN_ATTEMPT_SECONDS
from backend.core.metrics import OTP_SENDS
from backend.fakes import FakeAuthentica, FakeUnifonic
from backend.providers.breaker import breaker_open, breaker_reset
from tests.accounts.conftest import AUTHENTICA_KEY, UNIFONIC_APP_SID
from tests.accounts.support import error_of, request_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(settings):
    """OTP_PROVIDER=authentica,unifonic against the two fakes; generous send limits for many requests."""
    with (
        FakeAuthentica(api_key=AUTHENTICA_KEY) as authentica,
        FakeUnifonic(app_sid=UNIFONIC_APP_SID) as unifonic,
    ):
        settings.OTP_PROVIDER = "authentica,unifonic"
        settings.AUTHENTICA_BASE_URL = authentica.url
        settings.AUTHENTICA_API_KEY = AUTHENTICA_KEY
        settings.UNIFONIC_BASE_URL = unifonic.url
        settings.UNIFONIC_APP_SID = UNIFONIC_APP_SID
        settings.UNIFONIC_SENDER_ID = "Salon"
        settings.OTP_SEND_LIMIT_PER_IP_HOUR = settings.OTP_SEND_LIMIT_PER_NETWORK_HOUR = 1000
        settings.OTP_SEND_LIMIT_PER_PREFIX_HOUR = 1000
        cache.clear()
        for name in ("authentica", "unifonic"):
            breaker_reset(name)
        yield authentica, unifonic
        cache.clear()


@pytest.fixture
def attempts(monkeypatch):
    """(provider, timeout) of every OTP send attempt, in order: the budget each call was given."""
    calls = []
    providers_for = otp_delivery._providers_for

    def recorded(provider):
        def send_otp(**kwargs):
            calls.append((provider.name, kwargs["timeout"]))
            return provider.send_otp(**kwargs)

        return dataclasses.replace(provider, send_otp=send_otp)

    monkeypatch.setattr(
        otp_delivery, "_providers_for", lambda channel: [recorded(p) for p in providers_for(channel)]
    )
    return calls


def sends(provider: str, outcome: str) -> float:
    return OTP_SENDS.labels(provider=provider, outcome=outcome)._value.get()


def phone(n: int) -> str:
    return f"+96650{2000000 + n:07d}"


def test_the_first_provider_sends_when_it_is_up(api_client, both):
    authentica, unifonic = both
    before = sends("authentica", "sent")
    assert request_code(api_client, phone(0)).status_code == 202
    assert authentica.last_otp(phone(0)) and unifonic.messages() == []
    assert OtpChallenge.objects.get().provider == "authentica"
    assert sends("authentica", "sent") == before + 1


def test_with_the_first_provider_down_every_code_arrives_by_the_second_within_budget(
    api_client, both, settings, attempts
):
    authentica, unifonic = both
    authentica.down = True
    settings.PROVIDER_BREAKER_FAILURES = 1000  # measure the failover itself, not the breaker
    for n in range(20):
        attempts.clear()
        response = request_code(api_client, phone(n), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 202, response.content
        # Within budget by construction: each call may wait only what is left of it, the second less.
        [(first, whole), (second, left)] = attempts
        assert (first, second) == ("authentica", "unifonic")
        assert 0 < left < whole <= settings.OTP_SEND_TIMEOUT_SECONDS
    received = {message["Recipient"]: message["Body"] for message in unifonic.messages()}
    assert len(received) == 20
    assert all("Your login code is" in body for body in received.values())
    assert set(OtpChallenge.objects.values_list("provider", flat=True)) == {"unifonic"}


def test_a_provider_that_times_out_uses_the_budget_and_the_next_gets_what_is_left(
    api_client, both, settings, attempts
):
    authentica, unifonic = both
    settings.OTP_SEND_TIMEOUT_SECONDS = 1.0
    authentica.timeout_next(1)
    error_of(request_code(api_client, phone(1)), 502, "otp_delivery_failed")  # nothing left for unifonic
    [(name, whole)] = attempts  # the one call waited at most the whole budget, then none was tried
    assert name == "authentica" and whole <= settings.OTP_SEND_TIMEOUT_SECONDS
    assert unifonic.messages() == []
    attempts.clear()
    authentica.fail_next(1, status=503)
    assert request_code(api_client, phone(2)).status_code == 202  # a fast failure leaves time
    assert [name for name, _ in attempts] == ["authentica", "unifonic"]
    assert attempts[1][1] >= MIN_ATTEMPT_SECONDS
    assert len(unifonic.messages()) == 1


def test_a_provider_that_keeps_failing_is_skipped_for_the_cool_down(api_client, both, settings):
    authentica, unifonic = both
    settings.PROVIDER_BREAKER_FAILURES = 3
    authentica.fail_next(3, status=500)
    for n in range(3):
        assert request_code(api_client, phone(n)).status_code == 202
    assert breaker_open("authentica")
    skipped = sends("authentica", "skipped")
    calls = len(authentica.journal())
    assert request_code(api_client, phone(9)).status_code == 202
    assert len(authentica.journal()) == calls  # not even tried
    assert sends("authentica", "skipped") == skipped + 1
    assert len(unifonic.messages()) == 4


def test_when_every_provider_is_skipped_each_is_tried_anyway(api_client, both, settings):
    authentica, unifonic = both
    settings.PROVIDER_BREAKER_FAILURES = 1
    authentica.fail_next(1, status=500)
    unifonic.fail_next(1, status=500)
    error_of(request_code(api_client, phone(1)), 502, "otp_delivery_failed")
    assert breaker_open("authentica") and breaker_open("unifonic")
    assert request_code(api_client, phone(2)).status_code == 202
    assert authentica.last_otp(phone(2))


def test_a_channel_no_listed_provider_carries_is_refused(api_client, both, settings):
    settings.OTP_PROVIDER = "unifonic"
    error_of(request_code(api_client, phone(1), channel="whatsapp"), 400, "channel_unavailable")
    settings.OTP_PROVIDER = "unifonic,authentica"
    assert request_code(api_client, phone(2), channel="whatsapp").status_code == 202
    assert both[0].last_otp(phone(2))  # only Authentica sends WhatsApp codes


def test_a_failure_window_that_expires_between_counting_steps_starts_again(both, settings, monkeypatch):
    from backend.providers import breaker

    settings.PROVIDER_BREAKER_FAILURES = 2

    def expired(key):
        raise ValueError(key)

    monkeypatch.setattr(breaker.cache, "incr", expired)
    breaker.breaker_failure("unifonic")
    assert cache.get("provider-breaker:unifonic:failures") == 1 and not breaker_open("unifonic")
