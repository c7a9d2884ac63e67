"""The waitlist with a real `celery worker` and real PostgreSQL: freed time reaches the first waiting
customer through the worker, declines and lapses pass it on, accepting holds against a customer hammering
the create for that slot, and parallel cancellations with many waiting customers never double-offer,
double-book or double-message."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Event

import pytest
from django.db import connection, connections
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.services import booking_cancel
from backend.notifications.models import Kind, Notification
from backend.waitlist.models import EntryStatus, FreedTime, OfferOutcome, WaitlistEntry, WaitlistOffer
from backend.waitlist.services import waitlist_join
from tests.support.factories import at, client_for, make_user
from tests.support.waiting import wait_until
from worker.tasks.waitlist import lapse_offer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def fresh_worker(fresh_celery_worker):
    return fresh_celery_worker


def open_offer(entry) -> WaitlistOffer | None:
    return WaitlistOffer.objects.filter(entry=entry, outcome=OfferOutcome.OPEN).first()


def join_all(service, day, count):
    return [waitlist_join(customer=make_user(), service=service, day=day) for _ in range(count)]


def overlapping_pairs() -> int:
    """Pairs of bookings or offers of one staff member overlapping in time: the double bookings."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
               ON a.staff_id = b.staff_id AND a.id < b.id
                  AND a.start < b.occupied_until AND b.start < a.occupied_until
               WHERE a.status IN ('confirmed', 'pending_payment', 'offered')
                 AND b.status IN ('confirmed', 'pending_payment', 'offered')"""
        )
        return cursor.fetchone()[0]


def test_cancel_decline_and_lapse_each_reach_the_next_entry(
    celery_worker_process, salon, service, staff, day, full_day, manager
):
    first, second, third = join_all(service, day, 3)
    response = client_for(manager).post(f"/api/v1/bookings/{full_day[4].pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    offer = wait_until(lambda: open_offer(first), message="the first entry was never offered the slot")
    assert offer.start == at(day, "13:00")
    assert client_for(first.customer).post(f"/api/v1/waitlist/{first.pk}/decline/").status_code == 200
    offer = wait_until(lambda: open_offer(second), message="the decline never reached the second entry")
    assert offer.start == at(day, "13:00")
    # A short clock: the offer's time is up now, and its countdown task arrives.
    past = timezone.now() - timedelta(seconds=1)
    WaitlistOffer.objects.filter(pk=offer.pk).update(expires_at=past)
    Booking.objects.filter(pk=offer.booking_id).update(hold_expires_at=past)
    lapse_offer.delay(offer.pk)
    offer = wait_until(lambda: open_offer(third), message="the lapse never reached the third entry")
    assert offer.start == at(day, "13:00")
    assert WaitlistEntry.objects.get(pk=second.pk).status == EntryStatus.WAITING
    messages = Notification.objects.filter(kind=Kind.WAITLIST_OFFER)
    assert sorted(messages.values_list("recipient_id", flat=True)) == sorted(
        entry.customer_id for entry in (first, second, third)
    )


def test_accept_under_contention_books_once_and_the_hammering_customer_gets_409s(
    celery_worker_process, salon, service, staff, day, full_day, manager
):
    (entry,) = join_all(service, day, 1)
    booking_cancel(booking_id=full_day[6].pk, actor=manager)
    offer = wait_until(lambda: open_offer(entry), message="no offer was made")
    rival = client_for(make_user())
    body = {"salon": salon.pk, "service": service.pk, "staff": staff.pk, "start": offer.start.isoformat()}
    accepted = Event()

    def hammer() -> Counter:
        statuses: Counter = Counter()
        try:
            while not accepted.is_set() or statuses.total() < 20:
                statuses[rival.post("/api/v1/bookings/", body, format="json").status_code] += 1
        finally:
            connections.close_all()
        return statuses

    with ThreadPoolExecutor(max_workers=2) as pool:
        rivals = [pool.submit(hammer) for _ in range(2)]
        response = client_for(entry.customer).post(f"/api/v1/waitlist/{entry.pk}/accept/")
        accepted.set()
        statuses = sum((future.result() for future in rivals), Counter())
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "confirmed"
    assert set(statuses) == {409} and statuses.total() >= 40
    assert Booking.objects.filter(start=offer.start, status=BookingStatus.CONFIRMED).count() == 1
    assert overlapping_pairs() == 0


def test_thirty_waiting_ten_parallel_cancellations(
    celery_worker_process, salon, service, staff, day, full_day, manager
):
    entries = join_all(service, day, 30)
    cancelled = full_day[1:11]

    def cancel(booking_id: int) -> None:
        try:
            booking_cancel(booking_id=booking_id, actor=manager)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(cancel, [booking.pk for booking in cancelled]))

    def settled() -> bool:
        open_offers = WaitlistOffer.objects.filter(outcome=OfferOutcome.OPEN).count()
        return open_offers == len(cancelled) and not FreedTime.objects.exists()

    wait_until(settled, timeout=60, message=lambda: WaitlistOffer.objects.count())
    offers = list(WaitlistOffer.objects.filter(outcome=OfferOutcome.OPEN))
    # Every freed slot held for exactly one entry, each entry offered one slot, first come first served.
    assert sorted(offer.start for offer in offers) == sorted(booking.start for booking in cancelled)
    assert len({offer.entry_id for offer in offers}) == len(cancelled)
    assert {offer.entry_id for offer in offers} == {entry.pk for entry in entries[: len(cancelled)]}
    assert overlapping_pairs() == 0
    messages = Notification.objects.filter(kind=Kind.WAITLIST_OFFER)
    assert messages.count() == len(cancelled)
    assert len(set(messages.values_list("recipient_id", flat=True))) == len(cancelled)
