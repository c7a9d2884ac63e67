"""The background cancellation of what a closure or time off is in the way of, one batch at a time in this
process (the worker running it, killed mid-batch, is tests/bookings/test_closure_worker.py)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backend.bookings.bulk_cancellations import (
    DEFAULT_REASONS,
    bookings_cancel_in_the_way,
    bulk_cancellations_sweep,
)
from backend.bookings.models import BookingStatus, CancelledBy
from backend.notifications.models import Kind, Notification
from backend.payments.models import Refund
from backend.salons.models import CancellationState, Closure, TimeOff
from backend.salons.services import closure_create, time_off_create
from tests.support.factories import at, make_booking, make_paid_payment, make_staff, next_weekday
from worker.tasks.bookings import cancel_bookings_in_the_way, sweep_bulk_cancellations

pytestmark = pytest.mark.django_db


@pytest.fixture
def monday() -> date:
    return next_weekday(0)


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service])


def closure_asking(salon, first: date, last: date, reason: str = "Eid") -> Closure:
    return closure_create(salon=salon, date=first, end_date=last, reason=reason, cancel_bookings=True)


def batch(row, **kwargs):
    kind = "closure" if isinstance(row, Closure) else "time_off"
    return bookings_cancel_in_the_way(kind=kind, row_id=row.pk, **kwargs)


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

    assert batch(closure) == 0

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
    assert closure.cancellation == CancellationState.DONE
    assert closure.cancel_finished_at == closure.cancel_progress_at >= closure.cancel_requested_at
    # A redelivered message, or the sweep's, finds nothing more to do.
    assert batch(closure) is None
    assert Refund.objects.count() == 1 and cancelled.count() == 3


def test_batches_go_soonest_first_and_say_what_is_left(salon, service, staff, monday):
    bookings = [
        make_booking(service=service, staff=staff, start=at(monday, f"{hour}:00")) for hour in (15, 10, 12)
    ]
    closure = closure_asking(salon, monday, monday)
    assert batch(closure, limit=2) == 1
    closure.refresh_from_db()
    assert closure.cancellation == CancellationState.PENDING and closure.cancel_finished_at is None
    assert [b.status for b in sorted(bookings, key=lambda b: b.start) if _refreshed(b)] == [
        BookingStatus.CANCELLED,
        BookingStatus.CANCELLED,
        BookingStatus.CONFIRMED,
    ]
    assert batch(closure, limit=2) == 0
    closure.refresh_from_db()
    assert closure.cancellation == CancellationState.DONE


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
    moved.save()  # rescheduled out of the closure before its turn came, with its item
    moved.items.update(start=moved.start, end=moved.end, occupied_until=moved.occupied_until)
    assert batch(closure) == 0
    moved.refresh_from_db()
    started.refresh_from_db()
    assert moved.status == started.status == BookingStatus.CONFIRMED


def test_without_a_reason_the_bookings_say_the_salon_closed(salon, service, staff, monday):
    booking = make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    closure = closure_asking(salon, monday, monday, reason="")
    batch(closure)
    booking.refresh_from_db()
    assert booking.cancellation_reason == DEFAULT_REASONS["closure"]


def test_nothing_happens_for_a_closure_not_asked_or_gone(salon, service, staff, monday):
    booking = make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    plain = closure_create(salon=salon, date=monday)
    assert batch(plain) is None
    assert bookings_cancel_in_the_way(kind="closure", row_id=plain.pk + 1000) is None
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_the_task_enqueues_the_next_batch_while_bookings_are_left(
    salon, service, staff, monday, monkeypatch, django_capture_on_commit_callbacks
):
    for hour in (10, 12):
        make_booking(service=service, staff=staff, start=at(monday, f"{hour}:00"))
    closure = closure_asking(salon, monday, monday)
    published = []
    monkeypatch.setattr(cancel_bookings_in_the_way, "apply_async", lambda args, **kw: published.append(args))
    monkeypatch.setattr("backend.bookings.bulk_cancellations.BATCH", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_bookings_in_the_way.run("closure", closure.pk) == 1
    assert published == [("closure", closure.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_bookings_in_the_way.run("closure", closure.pk) == 0
        assert cancel_bookings_in_the_way.run("closure", closure.pk) is None
    assert published == [("closure", closure.pk)]  # done: nothing more enqueued


def test_the_sweep_resumes_only_cancellations_nobody_moved_on_for_a_while(
    salon, service, staff, monday, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.BULK_CANCEL_STALE_SECONDS = 300
    now = timezone.now()
    stale = closure_asking(salon, monday, monday)
    running = closure_asking(salon, monday + timedelta(days=1), monday + timedelta(days=1))
    finished = closure_asking(salon, monday + timedelta(days=2), monday + timedelta(days=2))
    plain = closure_create(salon=salon, date=monday + timedelta(days=3))
    stale_time_off = time_off_create(
        staff=staff, start=at(monday, "10:00"), end=at(monday, "12:00"), cancel_bookings=True
    )
    TimeOff.objects.filter(pk=stale_time_off.pk).update(cancel_progress_at=now - timedelta(minutes=6))
    Closure.objects.filter(pk__in=[stale.pk, finished.pk]).update(
        cancel_progress_at=now - timedelta(minutes=6)
    )
    Closure.objects.filter(pk=finished.pk).update(cancel_finished_at=now - timedelta(minutes=6))
    Closure.objects.filter(pk=running.pk).update(cancel_progress_at=now - timedelta(minutes=4))
    published = []
    monkeypatch.setattr(cancel_bookings_in_the_way, "apply_async", lambda args, **kw: published.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_cancellations_sweep(now=now) == 2
    assert published == [("closure", stale.pk), ("time_off", stale_time_off.pk)]
    stale.refresh_from_db()
    assert stale.cancel_progress_at == now  # not resumed again until it is stale again
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_bulk_cancellations.run() == 0
    assert len(published) == 2 and plain.cancellation is None


# --- time off ----------------------------------------------------------------------------------------------
def test_a_time_off_cancels_the_staff_members_bookings_it_overlaps(salon, service, staff, monday):
    colleague = make_staff(salon, services=[service], name="Huda")
    overlapping = [
        make_booking(service=service, staff=staff, start=at(monday, "09:30")),  # ends inside it
        make_booking(service=service, staff=staff, start=at(monday + timedelta(days=1), "11:00")),
    ]
    make_paid_payment(overlapping[1])
    before = make_booking(service=service, staff=staff, start=at(monday, "09:00") - timedelta(hours=1))
    theirs = make_booking(service=service, staff=colleague, start=at(monday, "11:00"))
    time_off = time_off_create(
        staff=staff,
        start=at(monday, "10:00"),
        end=at(monday + timedelta(days=1), "12:00"),
        reason="Umrah",
        cancel_bookings=True,
    )
    assert time_off.cancellation == CancellationState.PENDING
    assert batch(time_off) == 0
    for booking in overlapping:
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED and booking.cancellation_reason == "Umrah"
    assert overlapping[1].refund_halalas == overlapping[1].price_halalas
    assert Refund.objects.get().amount_halalas == overlapping[1].price_halalas
    assert Notification.objects.filter(kind=Kind.BOOKING_CANCELLED).count() == 2
    for untouched in (before, theirs):
        untouched.refresh_from_db()
        assert untouched.status == BookingStatus.CONFIRMED
    time_off.refresh_from_db()
    assert time_off.cancellation == CancellationState.DONE
    assert batch(time_off) is None


def test_a_time_off_without_a_reason_says_the_staff_member_is_away(salon, service, staff, monday):
    booking = make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    time_off = time_off_create(
        staff=staff, start=at(monday, "09:00"), end=at(monday, "13:00"), cancel_bookings=True
    )
    batch(time_off)
    booking.refresh_from_db()
    assert booking.cancellation_reason == DEFAULT_REASONS["time_off"]
