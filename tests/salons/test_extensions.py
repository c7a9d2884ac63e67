"""Salons' API extended by the apps that build on it (backend/salons/extensions.py): a slot stands where the
serializer names it when an app fills it, and is left out when none does."""

import pytest
from rest_framework import serializers

from backend.salons import extensions
from backend.salons.extensions import ComputedField, ExtensibleSerializer
from backend.salons.models import Salon
from backend.salons.serializers import SalonDetailSerializer, SalonListSerializer, SalonSettingsSerializer


@pytest.fixture
def registry(monkeypatch):
    fields = extensions._fields.__class__(dict)
    monkeypatch.setattr(extensions, "_fields", fields)
    return fields


class _Plain(ExtensibleSerializer, serializers.Serializer):
    extension_group, extension_slots = "test", ("extra",)

    own = serializers.CharField()


def test_the_apps_fields_stand_in_their_slots():
    assert list(SalonListSerializer().fields)[-1] == "cover_url"
    detail = list(SalonDetailSerializer().fields)
    assert detail.index("cover_url") == detail.index("prepayment_required") + 1
    assert detail[-2:] == ["business_hours", "gallery"]
    assert list(SalonSettingsSerializer().fields)[-1] == "tax"


def test_a_slot_no_app_filled_is_left_out(registry):
    assert "cover_url" not in SalonListSerializer().fields
    assert "tax" not in SalonSettingsSerializer().fields
    assert list(_Plain().fields) == ["own"]


def test_a_plain_serializer_lists_its_filled_slots_after_its_own_fields(registry):
    extensions.register_field(
        "test", "extra", lambda: ComputedField(lambda obj, request: obj["own"] * 2, schema=str)
    )
    assert _Plain({"own": "ab"}).data == {"own": "ab", "extra": "abab"}


@pytest.mark.django_db
def test_settings_sections_save_only_what_the_request_carries(monkeypatch):
    saved = []
    monkeypatch.setattr(extensions, "_section_savers", {"tax": lambda **kwargs: saved.append(kwargs)})
    salon = Salon(name="x")
    extensions.settings_sections_save(salon=salon, data={"name": "y"})
    extensions.settings_sections_save(salon=salon, data={"tax": {"vat_number": "1"}})
    assert saved == [{"salon": salon, "data": {"vat_number": "1"}}]
