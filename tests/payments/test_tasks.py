"""The `payments.reconcile` and `payments.refund` tasks, run in-process: thin wrappers over the services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import BookingStatus, PaymentStatus
from backend.payments.models import Payment, Refund, RefundStatus, Status
from backend.payments.services import payment_refresh
from tests.payments.conftest import pay
from worker.tasks.payments import reconcile, refund

pytestmark = pytest.mark.django_db


def age(payment_id, seconds: int) -> None:
    Payment.objects.filter(pk=payment_id).update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_reconcile_settles_a_payment_left_open_past_the_delay(moyasar, client, booking, settings):
    settings.PAYMENT_RECONCILE_AFTER_SECONDS = 120
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)  # paid at the gateway; we never heard (the webhook went nowhere)
    age(payment_id, 60)
    assert reconcile.run() == 0  # too young
    assert Payment.objects.get(pk=payment_id).status == Status.INITIATED
    age(payment_id, 121)
    assert reconcile() == 1
    assert Payment.objects.get(pk=payment_id).status == Status.PAID
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.PAID)


@pytest.fixture
def requested(moyasar, client, booking):
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)
    payment = payment_refresh(payment_id=payment_id)
    return Refund.objects.create(payment=payment, amount_halalas=4000, key="manual:task")


def test_refund_executes_the_row_and_returns_its_status(moyasar, requested):
    assert refund(requested.pk) == RefundStatus.SUCCEEDED
    assert moyasar.payment(str(requested.payment_id))["refunded"] == 4000
    assert refund.run(requested.pk) == "skipped"  # a redelivery does nothing
    assert moyasar.payment(str(requested.payment_id))["refunded"] == 4000


def test_refund_asks_celery_to_retry_with_the_services_backoff(moyasar, requested, settings, monkeypatch):
    settings.PAYMENT_REFUND_RETRY_BASE_DELAY_SECONDS = 7
    asked = []

    class Retry(Exception):
        pass

    def retry(*, countdown):
        asked.append(countdown)
        return Retry()

    monkeypatch.setattr(refund, "retry", retry)
    moyasar.down = True
    with pytest.raises(Retry):
        refund(requested.pk)
    assert asked == [7]  # first attempt: the base delay
    requested.refresh_from_db()
    assert (requested.status, requested.attempts) == (RefundStatus.REQUESTED, 1)
    assert requested.claimed_at is None and requested.last_error
