"""The one provider registry: which messaging providers exist, what each can carry, how to call it, and
what is wrong with the provider settings (checked when Django starts, so that a typo stops the process
instead of failing every message at run time).

Used by login codes (`backend/accounts/otp_delivery.py`: OTP_PROVIDER, an ordered list) and by the
notification outbox (`backend/notifications/senders.py`: SMS_PROVIDER; push and WhatsApp)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from backend.core.http import ProviderError
from backend.providers import authentica, console, fcm, unifonic, whatsapp
from backend.providers.base import SendResult


@dataclass(frozen=True)
class SmsProvider:
    """A provider of text messages and login codes. `otp_channels`: how it can deliver a login code."""

    name: str
    otp_channels: frozenset[str]
    send_otp: Callable[..., SendResult]  # (phone, code, channel, body, timeout)
    send_sms: Callable[..., SendResult]  # (phone, body, reference, timeout)


def _authentica_otp(*, phone: str, code: str, channel: str, body: str, timeout: float) -> SendResult:
    # Authentica renders its own template around our code.
    return authentica.send_otp(phone=phone, code=code, method=channel, timeout=timeout)


def _authentica_sms(*, phone: str, body: str, reference: str | None, timeout: float) -> SendResult:
    return authentica.send_sms(phone=phone, message=body, timeout=timeout)


def _unifonic_otp(*, phone: str, code: str, channel: str, body: str, timeout: float) -> SendResult:
    return unifonic.send_sms(recipient=phone, body=body, timeout=timeout)


def _unifonic_sms(*, phone: str, body: str, reference: str | None, timeout: float) -> SendResult:
    return unifonic.send_sms(recipient=phone, body=body, correlation_id=reference, timeout=timeout)


def _console_otp(*, phone: str, code: str, channel: str, body: str, timeout: float) -> SendResult:
    return console.send_otp(phone=phone, code=code, method=channel)


def _console_sms(*, phone: str, body: str, reference: str | None, timeout: float) -> SendResult:
    return console.send_message(phone=phone, body=body, channel="sms", reference=reference)


PROVIDERS: dict[str, SmsProvider] = {
    "authentica": SmsProvider("authentica", frozenset({"sms", "whatsapp"}), _authentica_otp, _authentica_sms),
    "unifonic": SmsProvider("unifonic", frozenset({"sms"}), _unifonic_otp, _unifonic_sms),
    "console": SmsProvider("console", frozenset({"sms", "whatsapp"}), _console_otp, _console_sms),
}


def provider_names(value: str) -> list[str]:
    """An OTP_PROVIDER / SMS_PROVIDER value as a list of names: `authentica,unifonic` -> two."""
    return [name.strip() for name in value.split(",") if name.strip()]


def otp_providers() -> list[SmsProvider]:
    """The login-code providers, in the order OTP_PROVIDER lists them."""
    return [PROVIDERS[name] for name in provider_names(settings.OTP_PROVIDER)]


def sms_provider() -> SmsProvider:
    """The provider of notification SMS (SMS_PROVIDER). Raises a permanent ProviderError for an unknown
    name, which the start-up check refuses anyway."""
    provider = PROVIDERS.get(settings.SMS_PROVIDER)
    if provider is None:
        raise ProviderError(
            settings.SMS_PROVIDER, f"unknown SMS_PROVIDER {settings.SMS_PROVIDER!r}", retryable=False
        )
    return provider


def push_configured() -> bool:
    """Push is on when both FCM_PROJECT_ID and FCM_CREDENTIALS_FILE are set."""
    return bool(settings.FCM_PROJECT_ID and settings.FCM_CREDENTIALS_FILE)


def whatsapp_configured() -> bool:
    """WhatsApp is on when the sender (token and number id) is set and at least one kind has a template."""
    return bool(settings.WHATSAPP_TOKEN and settings.WHATSAPP_PHONE_NUMBER_ID and settings.WHATSAPP_TEMPLATES)


def configuration_problems(*, messages: Mapping[str, Any]) -> list[str]:
    """Everything wrong with the provider settings; empty when every configured channel can work.
    `messages` are the message kinds and their texts (backend/notifications/templates.py: MESSAGES), whose
    placeholders the WhatsApp templates must carry; the caller passes them, so providers never import the
    notifications app that builds on them."""
    problems = []
    known = ", ".join(PROVIDERS)
    otp = provider_names(settings.OTP_PROVIDER)
    if not otp:
        problems.append(f"OTP_PROVIDER is empty (one or more of {known}, comma-separated)")
    for name in otp:
        if name not in PROVIDERS:
            problems.append(f"OTP_PROVIDER names an unknown provider {name!r} (known: {known})")
    if len(set(otp)) != len(otp):
        problems.append("OTP_PROVIDER lists a provider twice")
    if settings.SMS_PROVIDER not in PROVIDERS:
        problems.append(f"SMS_PROVIDER must be one of {known}, not {settings.SMS_PROVIDER!r}")
    if settings.FCM_PROJECT_ID or settings.FCM_CREDENTIALS_FILE:
        problems += fcm.configuration_problems(
            project_id=settings.FCM_PROJECT_ID, credentials_file=settings.FCM_CREDENTIALS_FILE
        )
    problems += whatsapp.template_mapping_problems(
        settings.WHATSAPP_TEMPLATES, whatsapp.context_keys_by_kind(messages)
    )
    if settings.WHATSAPP_TEMPLATES and not (settings.WHATSAPP_TOKEN and settings.WHATSAPP_PHONE_NUMBER_ID):
        problems.append("WHATSAPP_TEMPLATES is set but WHATSAPP_TOKEN or WHATSAPP_PHONE_NUMBER_ID is not")
    return problems


def providers_validate(*, messages: Mapping[str, Any]) -> None:
    """Raises ImproperlyConfigured listing every problem (called by the notifications app at start)."""
    problems = configuration_problems(messages=messages)
    if problems:
        raise ImproperlyConfigured("Provider settings: " + "; ".join(problems))
