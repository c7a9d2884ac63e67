"""A cancellation's refund executed by a real `celery worker` subprocess against the fake Moyasar, once."""

import pytest
from django.db import transaction

from backend.bookings.services import booking_cancel
from backend.fakes.moyasar import DEFAULT_SECRET_KEY
from backend.payments.models import Refund, RefundStatus
from backend.payments.services import payment_refresh
from tests.payments.conftest import pay
from tests.support.processes import WorkerProcess, child_env
from tests.support.waiting import wait_until
from worker.celery import app
from worker.tasks.payments import refund as refund_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def worker(moyasar):
    app.control.purge()
    env = child_env(
        MOYASAR_BASE_URL=moyasar.url,
        MOYASAR_SECRET_KEY=DEFAULT_SECRET_KEY,
        MOYASAR_TIMEOUT_SECONDS="1",
        PAYMENT_REFUND_RETRY_BASE_DELAY_SECONDS="1",
    )
    process = WorkerProcess(queues="payments", concurrency=2, env=env).start()
    yield process
    process.stop()


def test_a_cancellation_refund_is_executed_once_even_after_a_lost_answer(
    moyasar, worker, client, booking, customer
):
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)
    payment_refresh(payment_id=payment_id)
    # The worker's look-up goes through; its refund call lands but the answer is lost.
    moyasar.configure(timeout_next=0)
    real_calls = len(moyasar.journal())
    with transaction.atomic():
        booking_cancel(booking_id=booking.pk, actor=customer)
    refund = Refund.objects.get()

    def succeeded() -> bool:
        refund.refresh_from_db()
        return refund.status == RefundStatus.SUCCEEDED

    wait_until(succeeded, message=lambda: (refund.status, refund.last_error))
    # A redelivered message does nothing: the worker reports it skipped (its result row is the signal
    # that it ran), and the gateway saw no second refund call.
    assert refund_task.delay(refund.pk).get(timeout=30) == "skipped"
    refund_posts = [c for c in moyasar.journal()[real_calls:] if c["path"].endswith("/refund")]
    assert len(refund_posts) == 1 and moyasar.payment(payment_id)["refunded"] == 10000
