"""backend/core/phone.py: which numbers may log in, and each provider's form of a number."""

import pytest
from django.core.exceptions import ValidationError

from backend.core.errors import ApplicationError
from backend.core.phone import (
    phone_for_authentica,
    phone_for_unifonic,
    phone_normalize,
    phone_normalize_for_login,
    validate_login_phone,
)


@pytest.mark.parametrize(
    "raw",
    [
        "0501234567",
        "501234567",
        "966501234567",
        "00966501234567",
        "+966501234567",
        "+966 50 123 4567",
        "00966 50 123 4567",
        "(050) 123-4567",
        "٠٥٠١٢٣٤٥٦٧",
        " 0501234567 ",
    ],
)
def test_common_forms_of_a_saudi_mobile(raw):
    assert phone_normalize_for_login(raw) == "+966501234567"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0112345678", "invalid_phone"),
        ("920012345", "invalid_phone"),
        ("+201001234567", "phone_region_not_allowed"),
    ],
)
def test_login_refusals(raw, code):
    with pytest.raises(ApplicationError) as raised:
        phone_normalize_for_login(raw)
    assert raised.value.code == code
    assert phone_normalize(raw).startswith("+")  # valid numbers all the same, just not for login


def test_allowed_regions_and_numbering_plans_that_cannot_tell_mobiles(settings):
    settings.PHONE_ALLOWED_REGIONS = ["SA", "EG", "US", "GB"]
    assert phone_normalize_for_login("+20 10 0123 4567") == "+201001234567"
    assert phone_normalize_for_login("+1 201 555 0123") == "+12015550123"  # FIXED_LINE_OR_MOBILE
    assert phone_normalize_for_login("+44 7400 123456") == "+447400123456"
    with pytest.raises(ApplicationError):
        phone_normalize_for_login("+44 7911 123456")  # Guernsey, not GB
    with pytest.raises(ApplicationError):
        phone_normalize_for_login("+44 20 7946 0018")  # a London landline


def test_default_region(settings):
    settings.PHONE_DEFAULT_REGION = "EG"
    settings.PHONE_ALLOWED_REGIONS = ["EG"]
    assert phone_normalize_for_login("01001234567") == "+201001234567"


def test_django_validator():
    validate_login_phone("0501234567")
    with pytest.raises(ValidationError) as raised:
        validate_login_phone("0112345678")
    assert raised.value.code == "invalid_phone"


def test_provider_forms():
    assert phone_for_authentica("+966501234567") == "+966501234567"
    assert phone_for_unifonic("+966501234567") == "966501234567"
