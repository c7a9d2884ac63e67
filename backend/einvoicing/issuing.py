"""Issuing documents, chained: an invoice for each payment received, a credit note for each refund landed.

Called through payments' hooks (backend/payments/hooks.py) inside the transaction that records the money
event. Under the salon's unit row lock (select_for_update) a document takes the next counter and the
previous document's hash, is built and hashed, and the unit's chain head moves on: concurrent payments of
one salon take turns here, so counters run 1, 2, 3... and every PIH is its predecessor's hash.

The hash does not cover the stamp (signature, QR), so the stamp is not part of the payment: the reporter
stamps each document before reporting it, or the first read that shows it does (backend/einvoicing/
stamping.py, docs/adr/0011-einvoicing-wiring.md). A salon without a tax profile issues nothing.

What an invoice adds to a checkout (issue 21's P10): the unit locked with its tax profile in one
statement, the document's INSERT and the chain head's UPDATE; the report run is published on commit only
when none is queued for the unit already (`Unit.report_queued`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from django.db import connections, router
from django.db.models.sql import InsertQuery
from django.utils import timezone

from backend.bookings.models import Booking
from backend.core.tasks import enqueue_on_commit
from backend.einvoicing import hashing, ubl
from backend.einvoicing.models import Document, DocumentKind, TaxProfile, Unit, UnitStatus
from backend.einvoicing.profiles import ADDRESS_FIELDS, seller_profile
from backend.payments.models import InSalonPayment, Payment, Refund

TIP_LINE = "Tip"
PREFIXES = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CRN"}
# What issuing reads of the unit and its profile (not the unit's keys and certificates: no stamp here).
CHAIN_FIELDS = ("salon_id", "status", "last_counter", "last_hash", "report_queued")
PROFILE_FIELDS = ("salon_id", "legal_name", "vat_number", "cr_number", "vat_rate_percent", *ADDRESS_FIELDS)


def enqueue_report(unit_id: int, *, on_failure: Callable[[], None] | None = None) -> None:
    from worker.tasks.einvoicing import report

    recovery = "einvoicing.sweep enqueues the unit again"
    enqueue_on_commit(report, unit_id, recovery=recovery, on_failure=on_failure)


def _report_queued_undo(unit_id: int) -> None:
    # The broker refused the run issuing queued: the next payment queues one again (the sweep meanwhile).
    Unit.objects.filter(pk=unit_id).update(report_queued=False)


def _report_queue_once(unit: Unit) -> None:
    """Queues the unit's report run on commit unless one is queued and not started yet (`report_queued`,
    read under the row lock and set with the chain head; the run clears it before it reads the documents,
    so whatever commits after that queues the next run)."""
    if not unit.report_queued:
        enqueue_report(unit.pk, on_failure=lambda: _report_queued_undo(unit.pk))


def unit_locked_with_profile(salon_id: int) -> tuple[Unit, TaxProfile] | None:
    """The salon's unit, row-locked for the chain, with its tax profile, in one statement; None for a salon
    without a profile (it issues nothing). A profile always comes with its unit (tax_profile_set,
    migration 0002), so there is nothing to create first."""
    unit = (
        Unit.objects.select_for_update(of=("self",))
        .select_related("salon__tax_profile")
        .only(*CHAIN_FIELDS, "salon__id", *(f"salon__tax_profile__{name}" for name in PROFILE_FIELDS))
        .filter(salon_id=salon_id)
        .first()
    )
    profile = getattr(unit.salon, "tax_profile", None) if unit is not None else None
    return (unit, profile) if profile is not None else None


def _line_rows(document: ubl.Document) -> list[dict]:
    return [
        {
            "name": line.name,
            "inclusive": amounts.inclusive,
            "vat": amounts.vat,
            "exclusive": amounts.exclusive,
            "rate": str(amounts.rate),
        }
        for line, amounts in zip(document.lines, document.totals.lines, strict=True)
    ]


def _issue(
    *,
    booking: Booking,
    unit: Unit,
    profile: TaxProfile,
    kind: DocumentKind,
    lines: list[ubl.Line],
    means: ubl.PaymentMeans,
    sources: dict,
    original: Document | None = None,
    reason: str = "",
) -> Document | None:
    counter = unit.last_counter + 1
    document = ubl.Document(
        kind=ubl.Kind(kind),
        number=f"{PREFIXES[kind]}-{booking.salon_id}-{counter:06d}",
        uuid=uuid.uuid4(),
        issued_at=timezone.now().replace(microsecond=0),
        counter=counter,
        previous_hash=unit.last_hash,
        seller=seller_profile(profile),
        lines=tuple(lines),
        payment_means=means,
        billing_reference=original.number if original else None,
        reason=reason or None,
    )
    root = ubl.build(document)
    row = Document(
        unit=unit,
        kind=kind,
        number=document.number,
        uuid=document.uuid,
        counter=counter,
        previous_hash=document.previous_hash,
        invoice_hash=hashing.invoice_hash(root),
        unsigned_xml=ubl.to_bytes(root),
        issued_at=document.issued_at,
        lines=_line_rows(document),
        total_halalas=document.totals.inclusive,
        vat_halalas=document.totals.vat,
        payment_means=means.value,
        booking=booking,
        original=original,
        billing_reference=document.billing_reference or "",
        reason=reason,
        **sources,
    )
    onboarded = unit.status == UnitStatus.ONBOARDED
    if onboarded:
        _report_queue_once(unit)
    _document_insert_with_head(row, unit, report_queued=unit.report_queued or onboarded)
    return row


def _document_insert_with_head(row: Document, unit: Unit, *, report_queued: bool) -> None:
    """Inserts the document and moves the unit's chain head to it in one statement (the head's UPDATE in
    a CTE): the unit's row lock is held to the commit, so a salon's payments take turns for every round
    trip made under it. The INSERT is Django's own SQL for the row (no signals: none are connected)."""
    alias = router.db_for_write(Document)
    query = InsertQuery(Document)
    fields = [field for field in Document._meta.local_concrete_fields if not field.primary_key]
    query.insert_values(fields, [row])
    ((insert_sql, insert_params),) = query.get_compiler(using=alias).as_sql()
    quote = connections[alias].ops.quote_name
    head_sql = (  # the table's name from the model; every value is a bound parameter
        f"UPDATE {quote(Unit._meta.db_table)} SET last_counter = %s, last_hash = %s, report_queued = %s, "  # noqa: S608
        "updated_at = %s WHERE id = %s"
    )
    head_params = [row.counter, row.invoice_hash, report_queued, timezone.now(), unit.pk]
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"WITH head AS ({head_sql}) {insert_sql} RETURNING {quote('id')}", [*head_params, *insert_params]
        )
        row.pk = cursor.fetchone()[0]
    row._state.adding, row._state.db = False, alias


def document_issue_for_payment(*, payment: Payment | InSalonPayment) -> Document | None:
    """The invoice of a payment received: online (paid, or captured: the captured part) or at checkout
    (the booking's price, and the tip as its own line at the same rate)."""
    booking = payment.booking
    locked = unit_locked_with_profile(booking.salon_id)
    if locked is None:
        return None
    unit, profile = locked
    rate_percent = profile.vat_rate_percent
    name = booking.service.name
    if isinstance(payment, InSalonPayment):
        lines = [ubl.Line(name, payment.amount_halalas, rate_percent)]
        if payment.tip_halalas:
            lines.append(ubl.Line(TIP_LINE, payment.tip_halalas, rate_percent))
        means, sources = ubl.PaymentMeans(payment.method), {"in_salon_payment": payment}
    else:
        if Document.objects.filter(payment=payment, kind=DocumentKind.INVOICE).exists():
            return None
        lines = [ubl.Line(name, payment.settled_halalas, rate_percent)]
        means, sources = ubl.PaymentMeans.CARD, {"payment": payment}
    lines = [line for line in lines if line.inclusive_halalas > 0]
    if not lines:
        return None  # nothing was sold: no invoice
    return _issue(
        booking=booking,
        unit=unit,
        profile=profile,
        kind=DocumentKind.INVOICE,
        lines=lines,
        means=means,
        sources=sources,
    )


def document_issue_for_refund(*, refund: Refund) -> Document | None:
    """The credit note of a refund that landed, referring to its payment's invoice (none if the payment
    was not invoiced: the salon had no tax profile then)."""
    original = (
        Document.objects.filter(payment_id=refund.payment_id, kind=DocumentKind.INVOICE)
        .select_related("booking__service")
        .first()
    )
    if original is None or Document.objects.filter(refund=refund).exists():
        return None
    rate = Decimal(original.lines[0]["rate"])
    unit, profile = unit_locked_with_profile(original.booking.salon_id)  # kept: salons are not deleted
    return _issue(
        booking=original.booking,
        unit=unit,
        profile=profile,
        kind=DocumentKind.CREDIT_NOTE,
        lines=[ubl.Line(original.booking.service.name, refund.amount_halalas, rate)],
        means=ubl.PaymentMeans(original.payment_means),
        sources={"refund": refund, "payment_id": refund.payment_id},
        original=original,
        reason=refund.reason or "refund",
    )
