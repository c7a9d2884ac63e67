"""Authentica (Saudi OTP and SMS): `POST /send-otp` with our own code, `POST /send-sms`.

Authentication is the `X-Authorization` header. Success is a 2xx with `{"success": true}`; anything else
is a failure: Authentica documents no other error shape."""

from typing import Any

from django.conf import settings

from backend.core.http import provider_call
from backend.core.phone import phone_for_authentica
from backend.providers.base import SendResult

PROVIDER = "authentica"
OTP_METHODS = ("sms", "whatsapp")


def _headers() -> dict[str, str]:
    return {
        "X-Authorization": settings.AUTHENTICA_API_KEY,
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def _succeeded(body: Any) -> bool:
    return isinstance(body, dict) and body.get("success") is True


def _post(*, operation: str, path: str, payload: dict[str, Any], read_timeout: float) -> SendResult:
    response = provider_call(
        provider=PROVIDER,
        operation=operation,
        method="POST",
        url=settings.AUTHENTICA_BASE_URL.rstrip("/") + path,
        read_timeout=read_timeout,
        succeeded=_succeeded,
        json=payload,
        headers=_headers(),
    )
    return SendResult(provider=PROVIDER, message_id=None, raw=response.body)


def send_otp(*, phone: str, code: str, method: str, timeout: float | None = None) -> SendResult:
    """Sends our `code` to the E.164 `phone` by `method` (sms or whatsapp), waiting at most `timeout`
    seconds (default OTP_SEND_TIMEOUT_SECONDS)."""
    if method not in OTP_METHODS:
        raise ValueError(f"Authentica OTP method must be one of {OTP_METHODS}, not {method!r}")
    payload = {
        "method": method,
        "phone": phone_for_authentica(phone),
        "template_id": settings.AUTHENTICA_TEMPLATE_ID,
        "otp": code,
    }
    return _post(
        operation="send_otp",
        path="/send-otp",
        payload=payload,
        read_timeout=settings.OTP_SEND_TIMEOUT_SECONDS if timeout is None else timeout,
    )


def send_sms(*, phone: str, message: str, timeout: float, sender_name: str | None = None) -> SendResult:
    """Sends `message` to the E.164 `phone` from `sender_name` (default AUTHENTICA_SENDER_NAME), waiting
    at most `timeout` seconds for the answer."""
    payload = {
        "phone": phone_for_authentica(phone),
        "message": message,
        "sender_name": sender_name or settings.AUTHENTICA_SENDER_NAME,
    }
    return _post(
        operation="send_sms",
        path="/send-sms",
        payload=payload,
        read_timeout=timeout,
    )
