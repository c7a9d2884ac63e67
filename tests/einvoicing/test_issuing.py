"""Documents issued on payments' hooks: invoices for payments received, credit notes for refunds landed,
numbered and chained under the unit's lock; stamped after the payment (tests/einvoicing/test_stamping.py)."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.bookings.models import Booking
from backend.einvoicing import hashing, issuing, stamping, ubl, vat
from backend.einvoicing.models import Document, DocumentKind, DocumentStatus, Unit
from backend.payments.checkout import booking_checkout
from backend.payments.models import Refund, RefundStatus
from backend.payments.services import payment_apply
from backend.payments.services.refunds import _refund_settle
from tests.einvoicing.wiring import (
    assert_chain,
    chain_of,
    gateway_payment,
    make_paid_payment,
    make_tax_profile,
    onboard,
)

pytestmark = pytest.mark.django_db


def test_a_salon_without_a_tax_profile_issues_nothing(booking):
    make_paid_payment(booking)
    assert not Document.objects.exists() and not Unit.objects.exists()


def test_a_paid_payment_is_invoiced_waiting_unsigned_until_the_unit_is_onboarded(booking):
    make_tax_profile(booking.salon)
    payment = make_paid_payment(booking)
    document = Document.objects.get()
    assert (document.kind, document.payment, document.booking) == (DocumentKind.INVOICE, payment, booking)
    assert (document.number, document.counter, document.status) == (
        f"INV-{booking.salon_id}-000001",
        1,
        DocumentStatus.ISSUED,
    )
    assert (document.total_halalas, document.vat_halalas) == (11500, 1500)
    assert document.signed_xml is None and document.qr == ""
    assert document.lines == [
        {"name": "Haircut", "inclusive": 11500, "vat": 1500, "exclusive": 10000, "rate": "15.00"}
    ]
    assert_chain([document], hashing.FIRST_PIH)
    unit = Unit.objects.get()
    assert (unit.last_counter, unit.last_hash) == (1, document.invoice_hash)


def test_an_authorized_payment_is_invoiced_when_captured_for_the_captured_part(booking):
    make_tax_profile(booking.salon)
    payment = make_paid_payment(booking, status="authorized")
    assert not Document.objects.exists()
    payment_apply(payment_id=payment.pk, remote=gateway_payment(payment, "captured", captured=5750))
    assert Document.objects.get().total_halalas == 5750


def test_an_onboarded_unit_issues_unstamped_and_enqueues_the_report(booking, fatoora, monkeypatch):
    make_tax_profile(booking.salon)
    unit = onboard(booking.salon)
    enqueued = []
    monkeypatch.setattr(issuing, "enqueue_report", lambda unit_id, **_: enqueued.append(unit_id))
    make_paid_payment(booking)
    document = Document.objects.get()
    assert (document.signed_xml, document.qr) == (None, "")  # the stamp is not part of the payment
    assert enqueued == [unit.pk]


def test_a_refund_that_lands_gets_a_credit_note_referring_to_the_invoice(booking):
    make_tax_profile(booking.salon)
    payment = make_paid_payment(booking)
    refund = Refund.objects.create(payment=payment, amount_halalas=5750, key="manual:1", reason="late")
    _refund_settle(refund, booking, status=RefundStatus.SUCCEEDED)
    invoice, note = chain_of(Unit.objects.get().pk)
    assert (note.kind, note.refund, note.original, note.billing_reference) == (
        DocumentKind.CREDIT_NOTE,
        refund,
        invoice,
        invoice.number,
    )
    assert (note.total_halalas, note.vat_halalas, note.reason) == (5750, 750, "late")
    assert note.number == f"CRN-{booking.salon_id}-000002"
    assert_chain([invoice, note], hashing.FIRST_PIH)
    root = ubl.parse(bytes(note.unsigned_xml))
    assert root.xpath("string(cbc:InvoiceTypeCode)", namespaces=ubl.XPATH_NS) == "381"
    # Settling twice (a redelivered task) issues nothing more; a failed refund issues nothing.
    _refund_settle(refund, booking, status=RefundStatus.SUCCEEDED)
    failed = Refund.objects.create(payment=payment, amount_halalas=100, key="manual:2")
    _refund_settle(failed, booking, status=RefundStatus.FAILED, error="no")
    assert Document.objects.count() == 2


def test_a_refund_of_a_payment_never_invoiced_gets_no_credit_note(booking):
    payment = make_paid_payment(booking)
    make_tax_profile(booking.salon)  # set after the payment
    refund = Refund.objects.create(payment=payment, amount_halalas=100, key="manual:1")
    assert issuing.document_issue_for_refund(refund=refund) is None


def test_a_payment_is_invoiced_once_and_nothing_sold_is_not_invoiced(booking):
    make_tax_profile(booking.salon)
    payment = make_paid_payment(booking)
    assert issuing.document_issue_for_payment(payment=payment) is None
    payment.status, payment.amount_halalas = "captured", 100  # captured_halalas 0: nothing taken
    assert issuing.document_issue_for_payment(payment=payment) is None
    assert Document.objects.count() == 1


def test_the_tax_profile_rate_applies(booking):
    make_tax_profile(booking.salon, vat_rate_percent=Decimal("5"))
    make_paid_payment(booking)
    document = Document.objects.get()
    assert (document.vat_halalas, document.lines[0]["rate"]) == (548, "5.00")


@settings(max_examples=60, deadline=None)
@given(
    price=st.integers(min_value=1, max_value=10_000_000),
    tip=st.integers(min_value=0, max_value=1_000_000),
    rate=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
)
def test_invoice_totals_reconcile_to_the_halala(price, tip, rate):
    """What the invoice rows store is what its XML says, and exclusive + VAT = inclusive everywhere."""
    lines = [ubl.Line("Haircut", price, rate)] + ([ubl.Line("Tip", tip, rate)] if tip else [])
    document = ubl.Document(
        kind=ubl.Kind.INVOICE,
        number="INV-1-000001",
        uuid=uuid.uuid4(),
        issued_at=timezone.now(),
        counter=1,
        previous_hash=hashing.FIRST_PIH,
        seller=ubl.SellerProfile(
            "L", "310122393500003", "1010010000", ubl.Address("s", "1234", "d", "c", "12345")
        ),
        lines=tuple(lines),
        payment_means=ubl.PaymentMeans.CASH,
    )
    rows = issuing._line_rows(document)
    assert sum(row["inclusive"] for row in rows) == price + tip == document.totals.inclusive
    assert all(row["exclusive"] + row["vat"] == row["inclusive"] for row in rows)
    assert sum(row["vat"] for row in rows) == document.totals.vat
    root = ubl.build(document)
    text = root.xpath("string(cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount)", namespaces=ubl.XPATH_NS)
    assert text == vat.sar(price + tip)


def test_a_checkout_of_nothing_issues_nothing(booking, manager):
    make_tax_profile(booking.salon)
    Booking.objects.filter(pk=booking.pk).update(price_halalas=0)
    booking_checkout(salon_id=booking.salon_id, booking_id=booking.pk, actor=manager, method="cash")
    assert not Document.objects.exists()


def test_a_stamp_that_would_change_the_issued_hash_is_refused(booking, fatoora):
    make_tax_profile(booking.salon)
    make_paid_payment(booking)
    document = Document.objects.get()
    document.invoice_hash = hashing.FIRST_PIH
    unit = onboard(booking.salon)
    with pytest.raises(stamping.StampMismatch):
        stamping.document_stamp(document, stamping.signing_identity(unit))
