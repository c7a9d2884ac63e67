"""The background cancellation of a closure's bookings, one batch at a time in this process (the worker
running it, killed mid-batch, is tests/bookings/test_closure_worker.py)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.bookings.closures import (
    CLOSURE_CANCEL_REASON,
    closure_cancel_bookings_batch,
    closure_cancellations_sweep,
)
from backend.bookings.models import BookingStatus, CancelledBy
from backend.notifications.models import Kind, Notification
from backend.payments.models import Refund
from backend.salons.models import Closure, ClosureCancellation
from backend.salons.services import closure_create
from tests.support.factories import at, make_booking, make_paid_payment, make_staff, next_weekday
from worker.tasks.bookings import cancel_closure_bookings, sweep_closure_cancellations

pytestmark = pytest.mark.django_db


@pytest.fixture
def monday() -> date:
    return next_weekday(0)


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service])


def closure_asking(salon, first: date, last: date, reason: str = "Eid") -> Closure:
    return closure_create(salon=salon, date=first, end_date=last, reason=reason, cancel_bookings=True)


def test_a_batch_cancels_the_bookings_on_the_closed_dates_as_the_salon(salon, service, staff, monday):
    inside = [
        make_booking(service=service, staff=staff, start=at(monday, "10:00")),
        make_booking(service=service, staff=staff, start=at(monday + timedelta(days=1), "23:30")),
        make_booking(
            service=service, staff=staff, start=at(monday, "12:00"), status=BookingStatus.PENDING_PAYMENT
        ),
    ]
    paid = make_paid_payment(inside[0])
    outside = make_booking(service=service, staff=staff, start=at(monday + timedelta(days=2), "00:30"))
    done = make_booking(
        service=service, staff=staff, start=at(monday, "15:00"), status=BookingStatus.COMPLETED
    )
    closure = closure_asking(salon, monday, monday + timedelta(days=1))

    assert closure_cancel_bookings_batch(closure_id=closure.pk) == 0

    for booking in inside:
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancelled_by == CancelledBy.SALON and booking.cancellation_reason == "Eid"
    assert inside[0].refund_halalas == inside[0].price_halalas  # in full, whatever the tiers say
    [refund] = Refund.objects.all()
    assert (refund.payment_id, refund.amount_halalas) == (paid.pk, paid.amount_halalas)
    cancelled = Notification.objects.filter(kind=Kind.BOOKING_CANCELLED)
    assert sorted(cancelled.values_list("dedupe_key", flat=True)) == sorted(
        f"booking:{booking.pk}:booking_cancelled" for booking in inside
    )
    for untouched in (outside, done):
        status = untouched.status
        untouched.refresh_from_db()
        assert untouched.status == status
    closure.refresh_from_db()
    assert closure.cancellation == ClosureCancellation.DONE
    assert closure.cancel_finished_at == closure.cancel_progress_at >= closure.cancel_requested_at
    # A redelivered message, or the sweep's, finds nothing more to do.
    assert closure_cancel_bookings_batch(closure_id=closure.pk) is None
    assert Refund.objects.count() == 1 and cancelled.count() == 3


def test_batches_go_soonest_first_and_say_what_is_left(salon, service, staff, monday):
    bookings = [
        make_booking(service=service, staff=staff, start=at(monday, f"{hour}:00")) for hour in (15, 10, 12)
    ]
    closure = closure_asking(salon, monday, monday)
    assert closure_cancel_bookings_batch(closure_id=closure.pk, limit=2) == 1
    closure.refresh_from_db()
    assert closure.cancellation == ClosureCancellation.PENDING and closure.cancel_finished_at is None
    assert [b.status for b in sorted(bookings, key=lambda b: b.start) if _refreshed(b)] == [
        BookingStatus.CANCELLED,
        BookingStatus.CANCELLED,
        BookingStatus.CONFIRMED,
    ]
    assert closure_cancel_bookings_batch(closure_id=closure.pk, limit=2) == 0
    closure.refresh_from_db()
    assert closure.cancellation == ClosureCancellation.DONE


def _refreshed(booking) -> bool:
    booking.refresh_from_db()
    return True


def test_a_booking_moved_out_or_already_started_is_left_alone(salon, service, staff, monday):
    moved = make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    started = make_booking(service=service, staff=staff, start=timezone.now() - timedelta(minutes=10))
    today = timezone.now().astimezone(salon.tz).date()
    closure = closure_asking(salon, min(today, monday), monday)
    moved.start, moved.end = moved.start + timedelta(days=1), moved.end + timedelta(days=1)
    moved.occupied_until = moved.end
    moved.save()  # rescheduled out of the closure before its turn came
    assert closure_cancel_bookings_batch(closure_id=closure.pk) == 0
    moved.refresh_from_db()
    started.refresh_from_db()
    assert moved.status == started.status == BookingStatus.CONFIRMED


def test_without_a_reason_the_bookings_say_the_salon_closed(salon, service, staff, monday):
    booking = make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    closure = closure_asking(salon, monday, monday, reason="")
    closure_cancel_bookings_batch(closure_id=closure.pk)
    booking.refresh_from_db()
    assert booking.cancellation_reason == CLOSURE_CANCEL_REASON


def test_nothing_happens_for_a_closure_not_asked_or_gone(salon, service, staff, monday):
    booking = make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    plain = closure_create(salon=salon, date=monday)
    assert closure_cancel_bookings_batch(closure_id=plain.pk) is None
    assert closure_cancel_bookings_batch(closure_id=plain.pk + 1000) is None
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_the_task_enqueues_the_next_batch_while_bookings_are_left(
    salon, service, staff, monday, monkeypatch, django_capture_on_commit_callbacks
):
    for hour in (10, 12):
        make_booking(service=service, staff=staff, start=at(monday, f"{hour}:00"))
    closure = closure_asking(salon, monday, monday)
    published = []
    monkeypatch.setattr(cancel_closure_bookings, "apply_async", lambda args, **kw: published.append(args))
    monkeypatch.setattr("backend.bookings.closures.CLOSURE_CANCEL_BATCH", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_closure_bookings.run(closure.pk) == 1
    assert published == [(closure.pk,)]
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_closure_bookings.run(closure.pk) == 0
        assert cancel_closure_bookings.run(closure.pk) is None
    assert published == [(closure.pk,)]  # done: nothing more enqueued


def test_the_sweep_resumes_only_cancellations_nobody_moved_on_for_a_while(
    salon, service, staff, monday, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CLOSURE_CANCEL_STALE_SECONDS = 300
    now = timezone.now()
    stale = closure_asking(salon, monday, monday)
    running = closure_asking(salon, monday + timedelta(days=1), monday + timedelta(days=1))
    finished = closure_asking(salon, monday + timedelta(days=2), monday + timedelta(days=2))
    plain = closure_create(salon=salon, date=monday + timedelta(days=3))
    Closure.objects.filter(pk__in=[stale.pk, finished.pk]).update(
        cancel_progress_at=now - timedelta(minutes=6)
    )
    Closure.objects.filter(pk=finished.pk).update(cancel_finished_at=now - timedelta(minutes=6))
    Closure.objects.filter(pk=running.pk).update(cancel_progress_at=now - timedelta(minutes=4))
    published = []
    monkeypatch.setattr(cancel_closure_bookings, "apply_async", lambda args, **kw: published.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        assert closure_cancellations_sweep(now=now) == 1
    assert published == [(stale.pk,)]
    stale.refresh_from_db()
    assert stale.cancel_progress_at == now  # not resumed again until it is stale again
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_closure_cancellations.run() == 0
    assert published == [(stale.pk,)] and plain.cancellation is None
