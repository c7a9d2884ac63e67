"""A salon's tax profile: saved through the settings endpoint (`"tax"`), read when a document is issued."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from backend.einvoicing import ubl
from backend.einvoicing.models import TaxProfile, Unit
from backend.einvoicing.validators import TaxProfileSerializer
from backend.salons.models import Salon

ADDRESS_FIELDS = ("street", "building", "district", "city", "postal_code")


def tax_profile_representation(profile: TaxProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {
        "legal_name": profile.legal_name,
        "vat_number": profile.vat_number,
        "cr_number": profile.cr_number,
        "address": {name: getattr(profile, name) for name in ADDRESS_FIELDS},
        "vat_rate_percent": str(profile.vat_rate_percent),
    }


@transaction.atomic
def tax_profile_set(*, salon: Salon, data: Mapping[str, Any]) -> TaxProfile:
    """Creates or changes the salon's tax profile from a (possibly partial) `tax` object: the result,
    the saved profile with the changes on top, must be complete and valid. Its e-invoicing unit is created
    with it, so issuing always finds one to lock."""
    profile = TaxProfile.objects.select_for_update().filter(salon=salon).first()
    merged = tax_profile_representation(profile) or {}
    merged.pop("vat_rate_percent", None)
    address = {**merged.get("address", {}), **dict(data.get("address") or {})}
    merged = {**merged, **{key: value for key, value in data.items() if key != "vat_rate_percent"}}
    merged["address"] = address
    check = TaxProfileSerializer(data=merged)
    if not check.is_valid():
        raise ValidationError({"tax": check.errors})
    values = {key: check.validated_data[key] for key in ("legal_name", "vat_number", "cr_number")}
    values.update({name: check.validated_data["address"][name] for name in ADDRESS_FIELDS})
    if "vat_rate_percent" in data:
        values["vat_rate_percent"] = data["vat_rate_percent"]
    profile, _created = TaxProfile.objects.update_or_create(salon=salon, defaults=values)
    Unit.objects.get_or_create(salon=salon)
    return profile


def seller_profile(profile: TaxProfile) -> ubl.SellerProfile:
    return ubl.SellerProfile(
        legal_name=profile.legal_name,
        vat_number=profile.vat_number,
        cr_number=profile.cr_number,
        address=ubl.Address(**{name: getattr(profile, name) for name in ADDRESS_FIELDS}),
    )
