"""Which provider delivers a login code, and what the message says.

OTP_PROVIDER lists one provider or several in order (`authentica,unifonic`). A send that fails (timeout,
5xx, refusal) goes on to the next provider within the same request, so a provider outage does not stop
logins. The whole delivery stays within one OTP_SEND_TIMEOUT_SECONDS budget: each attempt may wait only
for what is left of it. A provider that keeps failing is skipped for a while (`backend/providers/
breaker.py`, shared by every web process), unless every provider is being skipped: then each is tried
anyway, since refusing every login is worse than a slow one.

Delivery is synchronous (docs/adr/0001): the user waits for the code and the app must know at once
whether it went out. Ops see which provider sends: the `salon_otp_sends_total` counter, one log line per
attempt, and the provider on each login code in the admin."""

import logging
import time

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.core.http import ProviderError
from backend.core.metrics import OTP_SENDS
from backend.providers.base import SendResult
from backend.providers.breaker import breaker_failure, breaker_open
from backend.providers.registry import SmsProvider, otp_providers

logger = logging.getLogger(__name__)

# An attempt with less time than this left would only time out: the request answers at once instead.
MIN_ATTEMPT_SECONDS = 0.5


def _providers_for(channel: str) -> list[SmsProvider]:
    return [provider for provider in otp_providers() if channel in provider.otp_channels]


def otp_channel_check(*, channel: str) -> None:
    if not _providers_for(channel):
        raise ApplicationError(
            "channel_unavailable", _("Codes cannot be sent by this channel right now. Try SMS.")
        )


def _otp_message(*, code: str, language: str) -> str:
    with translation.override(language):
        return gettext("Your login code is %(code)s. Do not share it.") % {"code": code}


def _order(providers: list[SmsProvider]) -> list[SmsProvider]:
    """Providers whose breaker is closed, in order; all of them when every breaker is open."""
    closed = [provider for provider in providers if not breaker_open(provider.name)]
    for provider in providers:
        if provider not in closed and closed:
            OTP_SENDS.labels(provider=provider.name, outcome="skipped").inc()
    return closed or providers


def otp_deliver(*, phone_number: str, code: str, channel: str, language: str) -> SendResult:
    """Sends `code` to `phone_number` through the first provider that takes it; raises the last
    ProviderError when none did. Authentica renders its own template; the others get our text in
    `language`."""
    deadline = time.monotonic() + settings.OTP_SEND_TIMEOUT_SECONDS
    body = _otp_message(code=code, language=language)
    last_error = None
    for provider in _order(_providers_for(channel)):
        remaining = deadline - time.monotonic()
        if last_error is not None and remaining < MIN_ATTEMPT_SECONDS:
            break  # the first provider gets the whole budget; a later one only what is worth trying
        try:
            result = provider.send_otp(
                phone=phone_number, code=code, channel=channel, body=body, timeout=remaining
            )
        except ProviderError as error:
            OTP_SENDS.labels(provider=provider.name, outcome="failed").inc()
            breaker_failure(provider.name)
            logger.warning("OTP provider %s failed, trying the next: %r", provider.name, error)
            last_error = error
            continue
        OTP_SENDS.labels(provider=provider.name, outcome="sent").inc()
        return result
    raise last_error
