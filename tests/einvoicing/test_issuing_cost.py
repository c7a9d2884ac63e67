"""What an invoice adds to taking money (issue 21's P10): the statements of an invoiced checkout, and one
report run queued per unit rather than one per payment, without a document ever waiting for the sweep."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from backend.bookings.models import BookingStatus
from backend.einvoicing import reporting
from backend.einvoicing.models import Document, DocumentStatus, Unit
from backend.einvoicing.reporting import ReportStatus, unit_report
from backend.payments.checkout import booking_checkout
from tests.einvoicing.wiring import make_tax_profile, onboard
from tests.support.factories import make_booking, make_salon, make_service, make_staff
from worker.tasks.einvoicing import report

pytestmark = pytest.mark.django_db


def started_booking(service, staff, hours_ago: int):
    start = timezone.now() - timedelta(hours=hours_ago)
    return make_booking(service=service, staff=staff, start=start, status=BookingStatus.CONFIRMED)


@pytest.fixture
def bookings(service, staff):
    return iter([started_booking(service, staff, 2 * (n + 1)) for n in range(6)])


def checkout(booking, manager):
    booking_checkout(salon_id=booking.salon_id, booking_id=booking.pk, actor=manager, method="cash")


def checkout_statements(booking, manager) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        checkout(booking, manager)
    return [query["sql"] for query in queries.captured_queries]


def test_an_invoice_adds_one_statement_and_the_unit_lock_to_a_checkout(
    salon, bookings, manager, fatoora, django_capture_on_commit_callbacks
):
    plain_salon = make_salon(managers=[manager], name="Plain")
    plain_service = make_service(plain_salon, price_halalas=11500)
    plain_staff = make_staff(plain_salon, services=[plain_service])
    make_tax_profile(salon)
    onboard(salon)
    checkout(started_booking(plain_service, plain_staff, 3), manager)  # warm caches (content types)
    plain = checkout_statements(started_booking(plain_service, plain_staff, 1), manager)
    with django_capture_on_commit_callbacks():
        invoiced = checkout_statements(next(bookings), manager)
    einvoicing = [sql for sql in invoiced if "einvoicing_" in sql]
    # The unit locked with its tax profile in one SELECT ... FOR UPDATE OF the unit, then the document's
    # INSERT with the chain head's UPDATE in one statement; a salon without a profile pays the locked read
    # only (it finds no unit).
    assert len(einvoicing) == 2 and len(invoiced) == len(plain) + 1
    assert einvoicing[0].startswith("SELECT") and 'FOR UPDATE OF "einvoicing_unit"' in einvoicing[0]
    assert "einvoicing_taxprofile" in einvoicing[0] and "private_key" not in einvoicing[0]
    assert einvoicing[1].startswith('WITH head AS (UPDATE "einvoicing_unit"')
    assert 'INSERT INTO "einvoicing_document"' in einvoicing[1]
    document, unit = Document.objects.get(), Unit.objects.get()
    assert (unit.last_counter, unit.last_hash, unit.report_queued) == (1, document.invoice_hash, True)
    assert document.signed_xml is None and document.created_at  # stamped after the payment (stamping.py)


def test_a_burst_of_checkouts_queues_one_report_run_until_a_run_starts(
    salon, bookings, manager, fatoora, monkeypatch, django_capture_on_commit_callbacks
):
    make_tax_profile(salon)
    unit = onboard(salon)
    published = []
    monkeypatch.setattr(report, "apply_async", lambda args, **_: published.append(args))
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            checkout(next(bookings), manager)
    assert published == [(unit.pk,)] and Unit.objects.get().report_queued
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome(ReportStatus.DONE, 3)
    assert not Unit.objects.get().report_queued  # the run took the mark: the next payment queues again
    with django_capture_on_commit_callbacks(execute=True):
        checkout(next(bookings), manager)
    assert published == [(unit.pk,), (unit.pk,)]


def test_a_run_the_broker_refused_is_queued_again_by_the_next_payment(
    salon, bookings, manager, fatoora, monkeypatch, django_capture_on_commit_callbacks
):
    make_tax_profile(salon)
    onboard(salon)
    published = []

    def broker_down(args, **_):
        raise OperationalError("connection refused")

    monkeypatch.setattr(report, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        checkout(next(bookings), manager)
    assert not Unit.objects.get().report_queued
    monkeypatch.setattr(report, "apply_async", lambda args, **_: published.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        checkout(next(bookings), manager)
    assert len(published) == 1


@pytest.mark.django_db(transaction=True)
def test_a_document_issued_while_a_run_holds_the_unit_is_picked_up_by_that_runs_follow_up(
    salon, bookings, manager, fatoora, monkeypatch
):
    """The holder's last look for waiting documents happens after it releases its claim, so a document
    whose own run found the unit busy is never left to the sweep (nor is the unit's mark left set)."""
    make_tax_profile(salon)
    unit = onboard(salon)
    monkeypatch.setattr(report, "apply_async", lambda args, **_: None)  # runs are called here by hand
    checkout(next(bookings), manager)
    real_documents_report, calls = reporting._report_documents, []

    def report_then_a_payment_comes_in(unit):
        outcome = real_documents_report(unit)  # the holder has read and reported what was there
        if not calls:
            checkout(next(bookings), manager)  # commits before the holder releases the unit
            calls.append(unit_report(unit_id=unit.pk).status)  # its run finds the unit busy
        return outcome

    monkeypatch.setattr(reporting, "_report_documents", report_then_a_payment_comes_in)
    outcome = unit_report(unit_id=unit.pk)
    assert calls == [ReportStatus.BUSY]
    assert outcome == reporting.ReportOutcome(ReportStatus.MORE, 1)  # the task enqueues its next run
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome(ReportStatus.DONE, 1)
    assert list(Document.objects.values_list("status", flat=True)) == [DocumentStatus.REPORTED] * 2
    assert not Unit.objects.get().report_queued


def test_nothing_listens_to_a_documents_save():
    """Issuing inserts a document with Django's INSERT SQL but not `save()` (one statement with the chain
    head's UPDATE): a receiver connected to Document's save signals would silently miss issued documents."""
    assert not any(signal.has_listeners(Document) for signal in (pre_save, post_save))
