"""A matching round never waits for a lock while holding its earlier offers' locks: it could close a cycle
with a create or reschedule that holds a waiting customer's lock and waits for a staff member the round
already holds, and PostgreSQL would fail one of the two (a 500 for the request). Real PostgreSQL, a second
connection holding the lock."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.bookings.models import BookingStatus
from backend.bookings.services import booking_cancel, booking_offer_hold
from backend.salons.models import StaffMember
from backend.waitlist.matching import waitlist_match_salon
from backend.waitlist.models import EntryStatus, FreedTime, OfferOutcome, WaitlistOffer
from backend.waitlist.services import waitlist_join
from tests.support.factories import at, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def round_while_locked(salon_id: int, take_lock: Callable[[], object]) -> int:
    """Runs a matching round while a transaction in another connection holds the row lock `take_lock`
    takes (as a create or reschedule would), released only once the round has answered; the round's offers.
    Fails if the round waited for that lock."""
    locked, release, outcome = threading.Event(), threading.Event(), {}

    def hold() -> None:
        try:
            with transaction.atomic():
                take_lock()
                locked.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    def match() -> None:
        try:
            outcome["offers"] = waitlist_match_salon(salon_id=salon_id)
        except Exception as error:  # reported to the test, which fails on it
            outcome["error"] = error
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        matcher = threading.Thread(target=match)
        matcher.start()
        matcher.join(timeout=30)
        # The round answered while the lock was still held: it did not wait for it.
        assert not matcher.is_alive() and "error" not in outcome, outcome
    finally:
        release.set()
        holder.join(timeout=30)
    return outcome["offers"]


def test_an_offer_meeting_a_taken_customer_lock_is_retried_not_waited_for(
    salon, service, staff, day, full_day, manager
):
    first, second = (waitlist_join(customer=make_user(), service=service, day=day) for _ in range(2))
    for booking in (full_day[1], full_day[5]):  # 10:00 and 14:00 become free
        booking_cancel(booking_id=booking.pk, actor=manager)
    FreedTime.objects.all().delete()
    FreedTime.objects.create(salon_id=salon.pk, first_day=day, last_day=day, reason="cancelled")

    def lock_second_customer() -> None:
        User.objects.select_for_update(no_key=True).filter(pk=second.customer_id).values_list("pk").get()

    assert round_while_locked(salon.pk, lock_second_customer) == 1
    offered = WaitlistOffer.objects.get(entry=first)
    assert offered.start == at(day, "10:00") and offered.booking.status == BookingStatus.OFFERED
    second.refresh_from_db()
    assert second.status == EntryStatus.WAITING
    # Its date is freed time again, for the round enqueued a moment after the first committed.
    freed = list(FreedTime.objects.values_list("first_day", "last_day", "reason"))
    assert freed == [(day, day, "locks_busy")]

    assert waitlist_match_salon(salon_id=salon.pk) == 1
    retried = WaitlistOffer.objects.get(entry=second, outcome=OfferOutcome.OPEN)
    assert retried.start == at(day, "14:00") and retried.booking.customer_id == second.customer_id
    assert not FreedTime.objects.exists()


def test_an_offer_meeting_a_taken_staff_lock_leaves_the_slot_for_a_later_round(
    salon, service, staff, day, full_day, manager
):
    entry = waitlist_join(customer=make_user(), service=service, day=day)
    booking_cancel(booking_id=full_day[1].pk, actor=manager)

    def lock_staff() -> None:
        StaffMember.objects.select_for_update().filter(pk=staff.pk).get()

    assert round_while_locked(salon.pk, lock_staff) == 0
    assert FreedTime.objects.filter(reason="locks_busy", first_day=day).count() == 1
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    entry.refresh_from_db()
    assert entry.status == EntryStatus.OFFERED


def test_another_database_error_of_an_offer_is_not_taken_for_a_busy_lock(
    salon, service, staff, day, monkeypatch
):
    """Only lock_not_available (55P03) means "taken": any other error of the lock statement propagates."""
    from backend.bookings.services import create

    def failing(customer, *, nowait=False):
        raise OperationalError("the server closed the connection")

    monkeypatch.setattr(create, "_lock_customer", failing)
    with pytest.raises(OperationalError):
        booking_offer_hold(
            customer=make_user(),
            salon=salon,
            service=service,
            start=at(day, "10:00"),
            offer_until=timezone.now() + timedelta(minutes=15),
            staff_id=staff.pk,
        )
