"""Shapes of the e-invoicing API: the settings' `tax` object, documents, the manager's list, onboarding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backend.core.serializers import StrictCharField
from backend.einvoicing.models import Document, DocumentStatus, TaxProfile
from backend.einvoicing.profiles import tax_profile_representation
from backend.einvoicing.validators import TaxProfileSerializer
from backend.salons.extensions import ComputedField


class TaxSettingsSerializer(TaxProfileSerializer):
    """`tax` in `manage/salons/{id}/settings/`: the seller's details on every invoice; prices stay
    VAT-inclusive at `vat_rate_percent` (default 15)."""

    vat_rate_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        coerce_to_string=False,
        required=False,
    )


def tax_settings_data(salon_id: int) -> dict[str, Any] | None:
    profile = TaxProfile.objects.filter(salon_id=salon_id).first()
    data = tax_profile_representation(profile)
    return None if data is None else TaxSettingsSerializer(data).data


# The `tax` section of salons' settings, registered from apps.py (salons/extensions.py).
def tax_settings_output_field() -> ComputedField:
    """The tax profile (e-invoicing), null until set."""
    return ComputedField(
        lambda salon, request: tax_settings_data(salon.pk), schema=TaxSettingsSerializer(allow_null=True)
    )


def tax_settings_input_field() -> TaxSettingsSerializer:
    return TaxSettingsSerializer(required=False)


class DocumentSerializer(serializers.ModelSerializer):
    qr = serializers.SerializerMethodField(help_text="Base64 TLV of ZATCA's QR; null until stamped.")
    xml_url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = (
            "id",
            "kind",
            "number",
            "uuid",
            "issued_at",
            "total_halalas",
            "vat_halalas",
            "qr",
            "status",
            "xml_url",
            "html_url",
        )

    def get_qr(self, document: Document) -> str | None:
        return document.qr or None

    def _url(self, name: str, document: Document) -> str:
        path = reverse(name, kwargs={"booking_id": document.booking_id, "document_id": document.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_xml_url(self, document: Document) -> str:
        return self._url("booking-invoice-xml", document)

    def get_html_url(self, document: Document) -> str:
        return self._url("booking-invoice-html", document)


class ManagedDocumentSerializer(DocumentSerializer):
    messages = serializers.JSONField(read_only=True, help_text="ZATCA's messages (rejections, warnings).")

    class Meta(DocumentSerializer.Meta):
        fields = (*DocumentSerializer.Meta.fields, "booking", "messages", "reported_at")


# `from` is a Python keyword: the query serializer is built with the contract's field names.
InvoiceListQuerySerializer = type(
    "InvoiceListQuerySerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Issue days in the salon's time zone, both inclusive, and the status.",
        "from": serializers.DateField(required=False, help_text="First issue day (YYYY-MM-DD)."),
        "to": serializers.DateField(required=False, help_text="Last issue day (YYYY-MM-DD)."),
        "status": serializers.ChoiceField(choices=DocumentStatus.choices, required=False),
    },
)


class InvoiceTotalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total_halalas = serializers.IntegerField(help_text="Invoices minus credit notes, VAT included.")
    vat_halalas = serializers.IntegerField(help_text="VAT of invoices minus VAT of credit notes.")
    currency = serializers.CharField()


class OnboardSerializer(serializers.Serializer):
    otp = StrictCharField(max_length=32, help_text=_("The code from the Fatoora portal."))


class OnboardResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    environment = serializers.CharField()
