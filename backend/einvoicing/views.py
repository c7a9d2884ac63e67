"""The e-invoicing API (api-contract "Invoices"): a booking's documents for whoever may see the booking
(JSON, the signed XML, a printable receipt), the manager's list with totals, and onboarding."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.pagination import PageNumberPagination
from backend.core.serializers import error_responses
from backend.einvoicing import selectors
from backend.einvoicing.onboarding import unit_onboard
from backend.einvoicing.receipts import receipt_html
from backend.einvoicing.serializers import (
    DocumentSerializer,
    InvoiceListQuerySerializer,
    InvoiceTotalsSerializer,
    ManagedDocumentSerializer,
    OnboardResultSerializer,
    OnboardSerializer,
)
from backend.einvoicing.stamping import documents_stamped_for_reading
from backend.salons.permissions import ManagedSalonMixin

# text/xml (RFC 7303: the same as application/xml) so that generated clients read it as text.
XML_CONTENT_TYPE = "text/xml; charset=utf-8"


class BookingInvoiceListView(APIView):
    @extend_schema(
        operation_id="bookings_invoices",
        summary="List a booking's invoices",
        responses={200: DocumentSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, booking_id: int) -> Response:
        """The booking's invoices and credit notes, oldest first (whoever may see the booking)."""
        documents = list(selectors.documents_of_booking(user=request.user, booking_id=booking_id))
        documents_stamped_for_reading(documents)  # an onboarded unit's documents are shown stamped
        return Response(DocumentSerializer(documents, many=True, context={"request": request}).data)


class BookingInvoiceXmlView(APIView):
    @extend_schema(
        operation_id="bookings_invoice_xml",
        summary="Download an invoice's XML",
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="UBL 2.1 XML, UTF-8."),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, booking_id: int, document_id: int) -> HttpResponse:
        """The signed UBL 2.1 XML, byte for byte as reported (stamped now if the reporter has not yet;
        the unsigned XML until the salon's unit is onboarded)."""
        document = selectors.document_of_booking(
            user=request.user, booking_id=booking_id, document_id=document_id
        )
        documents_stamped_for_reading([document])
        response = HttpResponse(
            bytes(document.signed_xml or document.unsigned_xml), content_type=XML_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'inline; filename="{document.number}.xml"'
        return response


class BookingInvoiceHtmlView(APIView):
    @extend_schema(
        operation_id="bookings_invoice_html",
        summary="Show a printable receipt",
        responses={
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The bilingual receipt."),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, booking_id: int, document_id: int) -> HttpResponse:
        """A printable receipt in Arabic (right to left) and English: the seller's tax details, the lines,
        the VAT breakdown and the QR image."""
        document = selectors.document_of_booking(
            user=request.user, booking_id=booking_id, document_id=document_id
        )
        documents_stamped_for_reading([document])
        return HttpResponse(receipt_html(document), content_type="text/html; charset=utf-8")


class ManagedInvoiceListView(ManagedSalonMixin, APIView):
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="manage_invoices",
        summary="List the salon's invoices",
        parameters=[InvoiceListQuerySerializer],
        responses={
            200: inline_serializer(
                "ManagedInvoicePage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": ManagedDocumentSerializer(many=True),
                    "totals": InvoiceTotalsSerializer(),
                },
            ),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request: Request, salon_id: int) -> Response:
        """The salon's invoices and credit notes, newest first, filtered by issue day (`from`, `to`, in the
        salon's time zone) and `status`; `totals` (invoices minus credit notes) cover every page."""
        query = InvoiceListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        documents = selectors.documents_of_salon(
            salon=self.salon,
            day_from=query.validated_data.get("from"),
            day_to=query.validated_data.get("to"),
            status=query.validated_data.get("status"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(documents, request, view=self)
        documents_stamped_for_reading(page)
        response = paginator.get_paginated_response(
            ManagedDocumentSerializer(page, many=True, context={"request": request}).data
        )
        response.data["totals"] = selectors.documents_totals(documents)
        return response


class OnboardView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_einvoicing_onboard",
        summary="Onboard the salon with ZATCA",
        request=OnboardSerializer,
        responses={
            200: OnboardResultSerializer,
            **error_responses(
                400,
                401,
                404,
                409,
                503,
                codes={
                    400: "einvoicing_onboarding_failed (with ZATCA's `messages`)",
                    409: "einvoicing_already_onboarded",
                    503: "einvoicing_onboarding_failed (the server cannot store keys)",
                },
            ),
        },
    )
    def post(self, request: Request, salon_id: int) -> Response:
        """With the OTP from the Fatoora portal: generates the unit's key and CSR, obtains the compliance
        CSID, passes the compliance checks and obtains the production CSID. Synchronous: it takes a few
        ZATCA calls. Invoices issued before are then stamped and reported."""
        payload = OnboardSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        unit = unit_onboard(salon=self.salon, otp=payload.validated_data["otp"])
        return Response({"status": unit.status, "environment": unit.environment})
