"""Which provider carries a notification, chosen by SMS_PROVIDER. The provider clients live in
backend/providers/ (one module each) and raise ProviderError, retryable or not."""

from django.conf import settings

from backend.core.http import ProviderError
from backend.notifications.models import Channel
from backend.providers import authentica, console, unifonic
from backend.providers.base import SendResult


def message_send(*, phone: str, body: str, channel: str, reference: str) -> SendResult:
    """Sends one message. `reference` (our notification id) goes to providers that accept one, so their
    records can be matched with ours."""
    provider = settings.SMS_PROVIDER
    if provider == "console":
        return console.send_message(phone=phone, body=body, channel=channel, reference=reference)
    if channel != Channel.SMS:
        # Neither Authentica's nor Unifonic's documented API sends free-text WhatsApp messages.
        raise ProviderError(provider, f"{provider} cannot send {channel} messages", retryable=False)
    timeout = settings.NOTIFICATION_SEND_TIMEOUT_SECONDS
    if provider == "authentica":
        return authentica.send_sms(phone=phone, message=body, timeout=timeout)
    if provider == "unifonic":
        return unifonic.send_sms(recipient=phone, body=body, correlation_id=reference, timeout=timeout)
    raise ProviderError(provider, f"unknown SMS_PROVIDER {provider!r}", retryable=False)
