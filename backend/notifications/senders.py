"""Which provider carries a notification SMS, chosen by SMS_PROVIDER through the provider registry
(backend/providers/registry.py). The provider clients live in backend/providers/ (one module each) and
raise ProviderError, retryable or not. Push and WhatsApp: `channels.py`."""

from django.conf import settings

from backend.core.http import ProviderError
from backend.notifications.models import Channel
from backend.providers import console
from backend.providers.base import SendResult
from backend.providers.registry import sms_provider


def message_send(*, phone: str, body: str, channel: str, reference: str) -> SendResult:
    """Sends one text message. `reference` (our notification id) goes to providers that accept one, so
    their records can be matched with ours."""
    provider = sms_provider()
    if channel != Channel.SMS:
        if provider.name == "console":  # development: any channel goes to the log
            return console.send_message(phone=phone, body=body, channel=channel, reference=reference)
        # Authentica's and Unifonic's documented APIs send no free-text WhatsApp messages: WhatsApp goes
        # through the Cloud API with templates (channels.py).
        raise ProviderError(provider.name, f"{provider.name} cannot send {channel} messages", retryable=False)
    return provider.send_sms(
        phone=phone, body=body, reference=reference, timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS
    )
