"""A salon's tax profile: pure checks, and DRF serializers ready for the settings endpoint
(``manage/salons/{id}/settings/`` ``"tax"``, api-contract "Invoices").

- VAT number: 15 digits, starting and ending with 3 (3rd-party rule; its ZATCA rule number is unconfirmed).
- CR (commercial registration) number: 10 digits (the Ministry of Commerce's format).
- National address: building number 4 digits, postal code 5 digits, street, district and city not blank.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

VAT_NUMBER = re.compile(r"3\d{13}3")
CR_NUMBER = re.compile(r"\d{10}")
BUILDING_NUMBER = re.compile(r"\d{4}")
POSTAL_CODE = re.compile(r"\d{5}")
MAX_TEXT = 127  # ZATCA's address and name fields; the XSD itself has no limit


def is_valid_vat_number(value: object) -> bool:
    return isinstance(value, str) and VAT_NUMBER.fullmatch(value) is not None


def is_valid_cr_number(value: object) -> bool:
    return isinstance(value, str) and CR_NUMBER.fullmatch(value) is not None


def address_problems(address: dict[str, object]) -> dict[str, str]:
    """Field name -> problem for a national address; empty when it is complete."""
    problems: dict[str, str] = {}
    for name in ("street", "district", "city"):
        value = address.get(name)
        if not isinstance(value, str) or not value.strip():
            problems[name] = "required"
        elif len(value) > MAX_TEXT:
            problems[name] = "too_long"
    for name, pattern in (("building", BUILDING_NUMBER), ("postal_code", POSTAL_CODE)):
        value = address.get(name)
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            problems[name] = "invalid"
    return problems


def _validate_vat_number(value: str) -> None:
    if not is_valid_vat_number(value):
        raise serializers.ValidationError(_("A VAT number is 15 digits, starting and ending with 3."))


def _validate_cr_number(value: str) -> None:
    if not is_valid_cr_number(value):
        raise serializers.ValidationError(_("A commercial registration number is 10 digits."))


class VatNumberField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(min_length=15, max_length=15, validators=[_validate_vat_number], **kwargs)


class CrNumberField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(min_length=10, max_length=10, validators=[_validate_cr_number], **kwargs)


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField(max_length=MAX_TEXT)
    building = serializers.RegexField(
        r"\A\d{4}\Z", error_messages={"invalid": _("A building number is 4 digits.")}
    )
    district = serializers.CharField(max_length=MAX_TEXT)
    city = serializers.CharField(max_length=MAX_TEXT)
    postal_code = serializers.RegexField(
        r"\A\d{5}\Z", error_messages={"invalid": _("A postal code is 5 digits.")}
    )


class TaxProfileSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=MAX_TEXT)
    vat_number = VatNumberField()
    cr_number = CrNumberField()
    address = AddressSerializer()
