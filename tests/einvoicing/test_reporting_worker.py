"""Reporting end to end: documents committed in PostgreSQL, a real `celery worker` subprocess on the real
Redis consuming the `einvoicing` queue, the real Fatoora client talking HTTP to the fake Fatoora, which
checks the hash, the stamp, the PIH chain and the counter of every document it gets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.einvoicing.models import Document, DocumentStatus
from tests.einvoicing.wiring import ENCRYPTION_KEY, make_paid_payment, make_tax_profile, onboard
from tests.support.factories import make_booking
from tests.support.processes import WorkerProcess, child_env
from tests.support.waiting import wait_until
from worker.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST_CLOCKS = {
    "EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS": "1",
    "CELERY_TASK_SOFT_TIME_LIMIT": "20",
    "CELERY_TASK_TIME_LIMIT": "30",
    "CELERY_MAX_RETRY_COUNTDOWN_SECONDS": "10",
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "40",
}


@pytest.fixture
def worker(fatoora):
    app.control.purge()
    env = child_env(ZATCA_BASE_URL=fatoora.url, EINVOICING_KEY_ENCRYPTION_KEY=ENCRYPTION_KEY, **FAST_CLOCKS)
    process = WorkerProcess(queues="einvoicing", concurrency=4, env=env).start()
    yield process
    process.stop()


def all_reported(count: int) -> bool:
    return Document.objects.filter(status=DocumentStatus.REPORTED).count() == count


def test_documents_are_reported_in_chain_order_exactly_once_through_an_outage(worker, fatoora, booking):
    salon, service, staff = booking.salon, booking.service, booking.staff
    make_tax_profile(salon)
    make_paid_payment(booking)  # issued before onboarding: waits, unsigned
    onboard(salon)  # enqueues the unit's report on commit
    wait_until(lambda: all_reported(1), timeout=30)
    fatoora.fail_next(4, status=503)  # an outage: the next reports fail and back off, in order
    now = timezone.now()
    for n in range(1, 8):
        make_paid_payment(
            make_booking(service=service, staff=staff, start=now - timedelta(hours=2 * n), status="completed")
        )
    wait_until(lambda: all_reported(8), timeout=60)
    reported = fatoora.documents()
    assert [record["counter"] for record in reported] == [str(n) for n in range(1, 9)]
    assert len({record["uuid"] for record in reported}) == 8  # each once
    statuses = [entry["status"] for entry in fatoora.journal() if entry["path"].endswith("/reporting/single")]
    assert statuses.count(503) == 4 and statuses.count(200) == 8
    assert Document.objects.filter(attempts__gt=1).exists()  # the outage was retried, not skipped
