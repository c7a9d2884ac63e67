"""Phone numbers, parsed with Google's libphonenumber (the `phonenumbers` package).

Any common form is accepted (`0501234567`, `+966 50 123 4567`, `00966501234567`); a number without a
country code is read in PHONE_DEFAULT_REGION. Stored and returned in E.164."""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError

# Longer than any real number in any format: refuse megabyte "numbers" before parsing them.
MAX_RAW_PHONE_LENGTH = 32


def invalid_phone_error() -> ApplicationError:
    return ApplicationError("invalid_phone", _("Enter a valid mobile phone number."))


def phone_parse(raw: object, *, region: str | None = None) -> phonenumbers.PhoneNumber:
    """A valid number, or ApplicationError(invalid_phone)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_RAW_PHONE_LENGTH:
        raise invalid_phone_error()
    text = raw.strip()
    if text.startswith("00"):  # international prefix used across the Gulf
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise invalid_phone_error() from None
    if not phonenumbers.is_valid_number(number):
        raise invalid_phone_error()
    return number


def phone_to_e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_normalize(raw: object) -> str:
    """Any accepted form of a valid number, as E.164 (`+966501234567`)."""
    return phone_to_e164(phone_parse(raw))
