"""Phone numbers, parsed with Google's libphonenumber (the `phonenumbers` package).

Any common form is accepted (`0501234567`, `+966 50 123 4567`, `00966501234567`, Arabic-Indic digits); a
number without a country code is read in PHONE_DEFAULT_REGION. Stored and returned in E.164. Only mobiles
of PHONE_ALLOWED_REGIONS may log in (`phone_parse_for_login`); each provider's own form is built here too.
"""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError

# Longer than any real number in any format: refuse megabyte "numbers" before parsing them.
MAX_RAW_PHONE_LENGTH = 32

# MOBILE, or FIXED_LINE_OR_MOBILE where the numbering plan cannot tell them apart (e.g. the US).
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def invalid_phone_error() -> ApplicationError:
    return ApplicationError("invalid_phone", _("Enter a valid mobile phone number."))


def phone_region_not_allowed_error() -> ApplicationError:
    return ApplicationError(
        "phone_region_not_allowed", _("Mobile numbers from this country cannot be used to log in.")
    )


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


def phone_parse_for_login(raw: object) -> phonenumbers.PhoneNumber:
    """A number that may log in: a valid mobile (landlines answer invalid_phone) of one of
    PHONE_ALLOWED_REGIONS (others answer phone_region_not_allowed)."""
    number = phone_parse(raw)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise invalid_phone_error()
    if phonenumbers.region_code_for_number(number) not in settings.PHONE_ALLOWED_REGIONS:
        raise phone_region_not_allowed_error()
    return number


def phone_to_e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_normalize(raw: object) -> str:
    """Any accepted form of a valid number, as E.164 (`+966501234567`)."""
    return phone_to_e164(phone_parse(raw))


def phone_normalize_for_login(raw: object) -> str:
    """Any accepted form of a number that may log in, as E.164."""
    return phone_to_e164(phone_parse_for_login(raw))


def validate_login_phone(value: object) -> None:
    """Django validator (model fields, forms, createsuperuser): the login rules as a ValidationError."""
    try:
        phone_parse_for_login(value)
    except ApplicationError as error:
        raise ValidationError(error.message, code=error.code) from None


def phone_for_authentica(e164: str) -> str:
    """Authentica wants E.164 with its `+` (`+966501234567`)."""
    return e164


def phone_for_unifonic(e164: str) -> str:
    """Unifonic wants the international form without `+` or `00` (`966501234567`)."""
    return e164.removeprefix("+")


def phone_for_stcpay(e164: str) -> str:
    """Moyasar's STC Pay wants the Saudi local form (`0501234567`)."""
    return "0" + e164.removeprefix("+966")
