"""A closure's bookings cancelled by a real `celery worker` subprocess, SIGKILLed in the middle of a batch:
after a restart and the sweep, every booking is cancelled exactly once, each refund requested once and
each customer told once."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.test import override_settings

from backend.bookings.bulk_cancellations import bulk_cancellations_sweep
from backend.bookings.models import Booking, BookingStatus, CancelledBy
from backend.notifications.models import Kind, Notification
from backend.payments.models import Refund
from backend.salons.models import CancellationState, Closure
from tests.support.database import connect
from tests.support.factories import at, client_for, make_booking, make_paid_payment, make_staff, next_weekday
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BOOKINGS = 12
LOCKED = 5  # the sixth soonest booking is held by this test: the batch stops on it, five cancelled


def cancelled() -> int:
    return Booking.objects.filter(status=BookingStatus.CANCELLED).count()


def a_worker_waits_for_a_row_lock(observer) -> bool:
    row = observer.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    return row[0] > 0


def test_a_worker_killed_mid_batch_leaves_nothing_cancelled_twice_or_not_at_all(
    fresh_celery_worker, salon, service, manager
):
    staff = make_staff(salon, services=[service])
    monday = next_weekday(0)
    bookings = [
        make_booking(service=service, staff=staff, start=at(monday, f"{9 + n:02d}:00"))
        for n in range(BOOKINGS)
    ]
    for booking in bookings:
        make_paid_payment(booking)
    holder, observer = connect(), connect(autocommit=True)
    try:
        # This test holds one booking's row lock, as a customer's request would: the worker's batch
        # cancels the bookings before it, then waits on it; that wait is the moment to kill the worker.
        holder.execute("SELECT id FROM bookings_booking WHERE id = %s FOR UPDATE", [bookings[LOCKED].pk])
        body = {"date": str(monday), "reason": "Eid", "cancel_bookings": True}
        response = client_for(manager).post(
            f"/api/v1/manage/salons/{salon.pk}/closures/", body, format="json"
        )
        assert response.status_code == 201, response.content
        closure = Closure.objects.get()
        wait_until(lambda: cancelled() == LOCKED and a_worker_waits_for_a_row_lock(observer), timeout=30)
        fresh_celery_worker.kill()
    finally:
        holder.rollback()
        holder.close()
        observer.close()
    assert cancelled() == LOCKED, "killed mid-batch: some bookings cancelled, not all"
    closure.refresh_from_db()
    assert closure.cancellation == CancellationState.PENDING

    fresh_celery_worker.start()
    # Beat runs the sweep every minute; here the test runs it until the cancellation is done.
    with override_settings(BULK_CANCEL_STALE_SECONDS=1):
        wait_until(
            lambda: bulk_cancellations_sweep() >= 0 and Closure.objects.get().cancel_finished_at is not None,
            timeout=60,
            interval=0.5,
        )

    for booking in Booking.objects.all():
        assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == CancelledBy.SALON
        assert booking.refund_halalas == booking.price_halalas
    refunds = Refund.objects.values("payment__booking").annotate(n=Count("id"))
    assert sorted(row["payment__booking"] for row in refunds) == sorted(b.pk for b in bookings)
    assert {row["n"] for row in refunds} == {1}
    assert {refund.amount_halalas for refund in Refund.objects.all()} == {service.price_halalas}
    messages = Counter(
        Notification.objects.filter(kind=Kind.BOOKING_CANCELLED).values_list("recipient_id", flat=True)
    )
    assert messages == Counter({booking.customer_id: 1 for booking in bookings})
    [listed] = client_for(manager).get(f"/api/v1/manage/salons/{salon.pk}/closures/").json()["results"]
    assert (listed["bookings_in_the_way"], listed["cancellation"]) == (0, "done")
    closure.refresh_from_db()
    assert closure.cancel_finished_at - closure.cancel_requested_at < timedelta(minutes=2)
