"""The e-invoicing admin (read-only, rejected documents one filter away, the report-now action) and the
task wrappers run through Celery's tracer in this process."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.test import Client
from django.utils import timezone

from backend.einvoicing import reporting
from backend.einvoicing.models import Document, Unit
from tests.einvoicing.wiring import make_paid_payment, make_tax_profile, onboard
from tests.support.factories import make_admin
from tests.worker.test_tasks_in_process import trace
from worker.tasks import einvoicing as tasks

pytestmark = pytest.mark.django_db

ADMIN = "/admin/einvoicing"


@pytest.fixture
def browser():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_admin())
    return client


@pytest.fixture
def rows(booking, fatoora):
    make_tax_profile(booking.salon)
    onboard(booking.salon)
    make_paid_payment(booking)
    Document.objects.update(status="rejected", messages=[{"code": "BR-KSA-37"}])
    return Document.objects.get()


def test_pages_render_read_only_and_rejected_documents_are_one_filter_away(browser, rows):
    unit = rows.unit
    for path in (
        "taxprofile/",
        "unit/",
        f"unit/{unit.pk}/change/",
        "document/",
        f"document/{rows.pk}/change/",
    ):
        response = browser.get(f"{ADMIN}/{path}")
        assert response.status_code == 200, path
    page = browser.get(f"{ADMIN}/document/?status__exact=rejected").content.decode()
    assert rows.number in page
    assert rows.number not in browser.get(f"{ADMIN}/document/?status__exact=reported").content.decode()
    unit_page = browser.get(f"{ADMIN}/unit/{unit.pk}/change/").content.decode()
    assert "private_key" not in unit_page and "production_secret" not in unit_page
    assert browser.post(f"{ADMIN}/document/{rows.pk}/change/", {}).status_code == 403


def test_the_report_now_action_skips_the_backoff_and_enqueues_the_units(browser, rows, monkeypatch):
    from backend.einvoicing import admin

    Unit.objects.filter(pk=rows.unit_id).update(report_not_before=timezone.now() + timedelta(hours=1))
    enqueued = []
    monkeypatch.setattr(admin, "enqueue_report", enqueued.append)
    response = browser.post(
        f"{ADMIN}/unit/", {"action": "report_now", "_selected_action": [rows.unit_id]}, follow=True
    )
    assert response.status_code == 200 and enqueued == [rows.unit_id]
    assert Unit.objects.get(pk=rows.unit_id).report_not_before is None


def test_the_report_task_retries_asks_for_more_and_returns_the_outcome(monkeypatch):
    outcomes = iter(
        [
            reporting.ReportOutcome("retry", retry_in=5.0),
            reporting.ReportOutcome("more", 50),
            reporting.ReportOutcome("done", 1),
        ]
    )
    monkeypatch.setattr(tasks, "unit_report", lambda unit_id: next(outcomes))
    delayed = []
    monkeypatch.setattr(tasks.report, "delay", delayed.append)
    monkeypatch.setattr(tasks.report, "retry", lambda countdown: Retry(when=countdown))
    with pytest.raises(Retry):
        tasks.report.run(7)
    assert tasks.report.run(7) == "more" and delayed == [7]
    assert trace(tasks.report, 7) == "done"


def test_a_report_task_inside_the_backoff_ends_unless_it_is_the_retrying_one(monkeypatch):
    monkeypatch.setattr(tasks, "unit_report", lambda unit_id: reporting.ReportOutcome("waiting", waits=4.0))
    monkeypatch.setattr(tasks.report, "retry", lambda countdown: Retry(when=countdown))
    assert trace(tasks.report, 7) == "waiting"
    tasks.report.push_request(retries=1)
    try:
        with pytest.raises(Retry) as raised:
            tasks.report.run(7)
    finally:
        tasks.report.pop_request()
    assert raised.value.when == 4.0


def test_the_sweep_task(monkeypatch):
    monkeypatch.setattr(tasks, "units_sweep", lambda: 3)
    assert trace(tasks.sweep) == 3
    assert not Unit.objects.exists()
