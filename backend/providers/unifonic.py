"""Unifonic (SMS): `POST /rest/SMS/messages`, form-encoded, authenticated by the `AppSid` field.

Success is `{"success": true, "data": {"MessageID": ...}}`; failures carry an `errorCode` (`ER-04`...),
sometimes with non-standard HTTP codes (402, 480, 482), which count as permanent 4xx."""

from typing import Any

from django.conf import settings

from backend.core.http import ProviderError, provider_call
from backend.core.phone import phone_for_unifonic
from backend.providers.base import SendResult

PROVIDER = "unifonic"
# "This message is duplicate": Unifonic's answer to a CorrelationID it already accepted.
DUPLICATE_STATUS = 409


def _succeeded(body: Any) -> bool:
    return isinstance(body, dict) and body.get("success") is True


def _error_code(body: Any) -> str | None:
    return body.get("errorCode") if isinstance(body, dict) else None


def send_sms(*, recipient: str, body: str, timeout: float, correlation_id: str | None = None) -> SendResult:
    """Sends `body` to the E.164 `recipient`, waiting at most `timeout` seconds for the answer;
    `correlation_id` (e.g. our notification id) is kept by Unifonic with the message."""
    fields = {
        "AppSid": settings.UNIFONIC_APP_SID,
        "SenderID": settings.UNIFONIC_SENDER_ID,
        "Recipient": phone_for_unifonic(recipient),
        "Body": body,
    }
    if correlation_id:
        fields["CorrelationID"] = correlation_id
    try:
        response = provider_call(
            provider=PROVIDER,
            operation="send_sms",
            method="POST",
            url=settings.UNIFONIC_BASE_URL.rstrip("/") + "/rest/SMS/messages",
            read_timeout=timeout,
            succeeded=_succeeded,
            error_code=_error_code,
            data=fields,
            headers={"Accept": "application/json"},
        )
    except ProviderError as error:
        if error.status != DUPLICATE_STATUS or not correlation_id:
            raise
        # Unifonic refuses a CorrelationID it already accepted: this message was sent before (its first
        # answer was lost, e.g. a worker died waiting for it). Nothing new went out; that is a success.
        return SendResult(provider=PROVIDER, message_id=None, raw={"duplicate_of": correlation_id})
    data = response.body.get("data") or {}
    message_id = data.get("MessageID")
    return SendResult(
        provider=PROVIDER, message_id=str(message_id) if message_id is not None else None, raw=response.body
    )
