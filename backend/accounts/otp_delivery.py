"""Which provider delivers a login code, chosen by OTP_PROVIDER, and what the message says.

Delivery is synchronous with a strict timeout (docs/adr/0001): the user waits for the code and the app
must know at once whether it went out."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import OtpChannel
from backend.core.errors import ApplicationError
from backend.providers import authentica, console, unifonic
from backend.providers.base import SendResult

# Unifonic sends SMS only; Authentica's send-otp does SMS and WhatsApp.
CHANNELS = {
    "authentica": frozenset({OtpChannel.SMS, OtpChannel.WHATSAPP}),
    "unifonic": frozenset({OtpChannel.SMS}),
    "console": frozenset({OtpChannel.SMS, OtpChannel.WHATSAPP}),
}


def otp_channel_check(*, channel: str) -> None:
    if channel not in CHANNELS[settings.OTP_PROVIDER]:
        raise ApplicationError(
            "channel_unavailable", _("Codes cannot be sent by this channel right now. Try SMS.")
        )


def _otp_message(*, code: str, language: str) -> str:
    with translation.override(language):
        return gettext("Your login code is %(code)s. Do not share it.") % {"code": code}


def otp_deliver(*, phone_number: str, code: str, channel: str, language: str) -> SendResult:
    """Sends `code` to `phone_number`; raises ProviderError when the provider did not take it.
    Authentica renders its own template; Unifonic and the console get our text in `language`."""
    if settings.OTP_PROVIDER == "authentica":
        return authentica.send_otp(phone=phone_number, code=code, method=channel)
    if settings.OTP_PROVIDER == "unifonic":
        return unifonic.send_sms(
            recipient=phone_number,
            body=_otp_message(code=code, language=language),
            timeout=settings.OTP_SEND_TIMEOUT_SECONDS,
        )
    return console.send_otp(phone=phone_number, code=code, method=channel)
