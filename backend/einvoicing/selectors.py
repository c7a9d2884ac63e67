"""Reads of e-invoicing documents: a booking's (for whoever may see it), a salon's (its managers)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from backend.bookings.access import booking_get_for_user
from backend.einvoicing.models import Document, DocumentKind
from backend.salons.models import DEFAULT_CURRENCY, Salon


def documents_of_booking(*, user, booking_id: int) -> QuerySet[Document]:
    """The booking's documents, oldest first; Http404 for anyone who may not see the booking."""
    booking = booking_get_for_user(user=user, booking_id=booking_id)
    return Document.objects.filter(booking=booking).select_related("unit").order_by("counter")


def document_of_booking(*, user, booking_id: int, document_id: int) -> Document:
    documents = documents_of_booking(user=user, booking_id=booking_id).select_related(
        "unit__salon__tax_profile", "booking"
    )
    return get_object_or_404(documents, pk=document_id)


def _local_midnight(day: date, salon: Salon) -> datetime:
    return datetime.combine(day, time.min, tzinfo=salon.tz)


def documents_of_salon(
    *, salon: Salon, day_from: date | None = None, day_to: date | None = None, status: str | None = None
) -> QuerySet[Document]:
    """A salon's documents, newest first: issued on days `day_from`..`day_to` (both inclusive, in the
    salon's time zone), of `status`."""
    documents = Document.objects.filter(unit__salon=salon).select_related("unit")
    if day_from is not None:
        documents = documents.filter(issued_at__gte=_local_midnight(day_from, salon))
    if day_to is not None:
        documents = documents.filter(issued_at__lt=_local_midnight(day_to + timedelta(days=1), salon))
    if status:
        documents = documents.filter(status=status)
    return documents.order_by("-counter")


def documents_totals(documents: QuerySet[Document]) -> dict[str, Any]:
    """Invoices minus credit notes: what the salon sold net of refunds, with its VAT."""
    invoice, credit = Q(kind=DocumentKind.INVOICE), Q(kind=DocumentKind.CREDIT_NOTE)
    sums = documents.order_by().aggregate(
        count=Count("pk"),
        invoiced=Sum("total_halalas", filter=invoice, default=0),
        credited=Sum("total_halalas", filter=credit, default=0),
        invoiced_vat=Sum("vat_halalas", filter=invoice, default=0),
        credited_vat=Sum("vat_halalas", filter=credit, default=0),
    )
    return {
        "count": sums["count"],
        "total_halalas": sums["invoiced"] - sums["credited"],
        "vat_halalas": sums["invoiced_vat"] - sums["credited_vat"],
        "currency": DEFAULT_CURRENCY,
    }
