"""Reporting in process against the fake Fatoora: order, outcomes, retries, the claim, the sweep, metrics."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.einvoicing import client, hashing, reporting
from backend.einvoicing.models import Document, DocumentStatus, Unit
from backend.einvoicing.reporting import unit_report, units_sweep
from tests.einvoicing.wiring import assert_chain, chain_of, make_paid_payment, make_tax_profile, onboard
from tests.support.factories import make_booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(booking, service, staff):
    """Three paid bookings of a salon with a tax profile, issued before the unit was onboarded."""
    make_tax_profile(booking.salon)
    bookings = [booking] + [
        make_booking(
            service=service, staff=staff, start=timezone.now() - timedelta(hours=3 * n), status="completed"
        )
        for n in (1, 2)
    ]
    return [make_paid_payment(one) for one in bookings]


def backoff_ends(unit):
    Unit.objects.filter(pk=unit.pk).update(report_not_before=timezone.now() - timedelta(seconds=1))


def report_calls(fatoora):
    return sum(1 for call in fatoora.journal() if call["path"].endswith("/invoices/reporting/single"))


def statuses(unit_id):
    return [document.status for document in chain_of(unit_id)]


def test_documents_waiting_are_stamped_and_reported_in_chain_order(paid, salon, fatoora):
    unit = onboard(salon)
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome("done", 3)
    documents = chain_of(unit.pk)
    assert statuses(unit.pk) == ["reported"] * 3
    assert all(document.reported_at and document.attempts == 1 for document in documents)
    assert_chain(documents, hashing.FIRST_PIH)
    assert [record["counter"] for record in fatoora.documents()] == ["1", "2", "3"]
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome("done", 0)


def test_a_unit_not_onboarded_waits(paid, salon):
    assert unit_report(unit_id=Unit.objects.get(salon=salon).pk).status == "not_onboarded"


def test_a_retryable_failure_stops_the_run_and_backs_off(paid, salon, fatoora, settings):
    settings.EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS = 10
    unit = onboard(salon)
    fatoora.fail_next(2, status=503)  # the client's in-call retry and its first try
    outcome = unit_report(unit_id=unit.pk)
    assert (outcome.status, outcome.retry_in, outcome.reported) == ("retry", 10.0, 0)
    first = chain_of(unit.pk)[0]
    assert (first.status, first.attempts) == ("issued", 1) and "503" in first.last_error
    assert Unit.objects.get(pk=unit.pk).report_not_before > timezone.now()
    backoff_ends(unit)
    fatoora.fail_next(2, status=429)
    assert unit_report(unit_id=unit.pk).retry_in == 20.0  # doubled
    backoff_ends(unit)
    assert unit_report(unit_id=unit.pk).status == "done"
    assert statuses(unit.pk) == ["reported"] * 3
    assert Unit.objects.get(pk=unit.pk).report_not_before is None


def test_during_an_outage_runs_inside_the_backoff_call_nothing_and_reporting_resumes(
    paid, salon, fatoora, settings
):
    settings.EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS = 30
    unit = onboard(salon)
    fatoora.down = True
    assert unit_report(unit_id=unit.pk).retry_in == 30.0
    calls = report_calls(fatoora)
    assert calls >= 1
    # Every payment of the salon enqueues a run for its unit: none of them may call ZATCA meanwhile.
    waiting = [unit_report(unit_id=unit.pk) for _ in range(25)]
    assert {outcome.status for outcome in waiting} == {"waiting"}
    assert all(0 < outcome.waits <= 30 and outcome.retry_in is None for outcome in waiting)
    assert report_calls(fatoora) == calls
    # Each backoff that ends lets one run through: one failed attempt per backoff, doubling.
    for delay in (60.0, 120.0):
        backoff_ends(unit)
        assert unit_report(unit_id=unit.pk).retry_in == delay
        assert unit_report(unit_id=unit.pk).status == "waiting"
    assert report_calls(fatoora) == 3 * calls
    fatoora.down = False
    backoff_ends(unit)
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome("done", 3)
    assert statuses(unit.pk) == ["reported"] * 3
    assert [record["counter"] for record in fatoora.documents()] == ["1", "2", "3"]
    assert Unit.objects.get(pk=unit.pk).report_not_before is None


def test_a_409_counts_as_reported_and_a_400_is_rejected_with_zatcas_messages(paid, salon, fatoora):
    unit = onboard(salon)
    assert unit_report(unit_id=unit.pk).reported == 3
    # The first answer was lost: the document is sent again and ZATCA answers 409 (a duplicate).
    Document.objects.filter(unit=unit, counter=1).update(status="issued", reported_at=None)
    assert unit_report(unit_id=unit.pk).reported == 1
    assert statuses(unit.pk) == ["reported"] * 3
    assert fatoora.journal()[-1]["status"] == 409
    # A rejection is recorded with ZATCA's messages, and the chain goes on.
    booking = paid[0].booking
    later = make_paid_payment(
        make_booking(
            service=booking.service,
            staff=booking.staff,
            start=timezone.now() - timedelta(hours=20),
            status="completed",
        )
    )
    rejection = {"validationResults": {"errorMessages": [{"code": "BR-KSA-37", "message": "bad"}]}}
    fatoora.fail_next(1, status=400, body=rejection)
    assert unit_report(unit_id=unit.pk).status == "done"
    rejected = Document.objects.get(payment=later)
    assert (rejected.status, rejected.messages, rejected.reported_at) == (
        "rejected",
        [{"code": "BR-KSA-37", "message": "bad"}],
        None,
    )


def test_a_warning_is_reported_with_warnings(paid, salon, fatoora, monkeypatch):
    unit = onboard(salon)
    warning = {"code": "BR-KSA-98", "message": "late"}
    result = client.Result(client.REPORTED_WITH_WARNINGS, 202, warnings=[warning])
    monkeypatch.setattr(client, "report", lambda **kwargs: result)
    assert unit_report(unit_id=unit.pk).reported == 3
    documents = chain_of(unit.pk)
    assert {document.status for document in documents} == {DocumentStatus.REPORTED_WITH_WARNINGS}
    assert documents[0].messages == [warning] and documents[0].reported_at


def test_an_unauthorized_unit_fails_and_waits_for_the_sweep(paid, salon, fatoora, caplog):
    unit = onboard(salon)
    fatoora.fail_next(1, status=401)
    assert unit_report(unit_id=unit.pk).status == "failed"
    assert statuses(unit.pk)[0] == "issued"
    assert "cannot be reported" in caplog.text


def test_a_unit_whose_secrets_do_not_decrypt_fails_without_reporting(paid, salon, fatoora, settings):
    unit = onboard(salon)
    settings.EINVOICING_KEY_ENCRYPTION_KEY = "A" * 43 + "="
    assert unit_report(unit_id=unit.pk).status == "failed"
    assert Unit.objects.get(pk=unit.pk).reporting_claimed_at is None  # released


def test_one_reporter_per_unit(paid, salon, fatoora):
    unit = onboard(salon)
    Unit.objects.filter(pk=unit.pk).update(reporting_claimed_at=timezone.now())
    assert unit_report(unit_id=unit.pk).status == "busy"
    Unit.objects.filter(pk=unit.pk).update(reporting_claimed_at=timezone.now() - timedelta(hours=1))
    assert unit_report(unit_id=unit.pk).status == "done"  # a dead worker's claim


def test_a_full_batch_asks_for_more(paid, salon, fatoora, monkeypatch):
    unit = onboard(salon)
    monkeypatch.setattr(reporting, "REPORT_BATCH", 2)
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome("more", 2)
    assert unit_report(unit_id=unit.pk) == reporting.ReportOutcome("done", 1)


def test_the_sweep_enqueues_onboarded_units_with_old_waiting_documents(paid, salon, fatoora, monkeypatch):
    enqueued = []
    monkeypatch.setattr(reporting, "enqueue_report", enqueued.append)
    now = timezone.now()
    assert units_sweep(now=now + timedelta(hours=1)) == 0  # not onboarded
    unit = onboard(salon)
    assert units_sweep(now=now) == 0  # too recent: their task has it
    assert units_sweep(now=now + timedelta(hours=1)) == 1 and enqueued == [unit.pk]
    Unit.objects.filter(pk=unit.pk).update(report_not_before=now + timedelta(hours=2))
    assert units_sweep(now=now + timedelta(hours=1)) == 0  # backing off
    assert units_sweep(now=now + timedelta(hours=3)) == 1 and enqueued == [unit.pk, unit.pk]


def test_metrics_count_late_unreported_and_rejected_documents(paid, salon, settings, client):
    settings.METRICS_TOKEN = "t"
    Document.objects.filter(counter=1).update(issued_at=timezone.now() - timedelta(hours=21))
    Document.objects.filter(counter=2).update(status=DocumentStatus.REJECTED)
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert "salon_einvoicing_unreported_late 1.0" in body
    assert 'salon_einvoicing_documents{status="rejected"} 1.0' in body
    assert 'salon_einvoicing_documents{status="issued"} 2.0' in body
