"""Matching freed time to waiting entries, called directly (the worker runs the same functions): which
paths announce freed time, join order, one offer per entry and per slot, declines and lapses passing the
slot on, and what an offer is to everyone else."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.selectors import availability_for
from backend.bookings.services import booking_cancel, booking_create, booking_expire_holds, booking_reschedule
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind, Notification
from backend.salons.models import Closure, TimeOff
from backend.salons.services import closure_delete, staff_create, time_off_delete, working_hours_replace
from backend.salons.special_hours import special_hours_create, special_hours_delete
from backend.waitlist.matching import waitlist_match_salon, waitlist_offer_lapse, waitlist_sweep
from backend.waitlist.models import EntryStatus, FreedTime, OfferOutcome, WaitlistEntry, WaitlistOffer
from backend.waitlist.services import waitlist_accept, waitlist_decline, waitlist_join, waitlist_leave
from tests.support.factories import at, client_for, make_booking, make_service, make_staff, make_user

pytestmark = pytest.mark.django_db


def waiting(service, day, count=2, language="ar"):
    return [
        waitlist_join(customer=make_user(language=language), service=service, day=day) for _ in range(count)
    ]


def offer_of(entry) -> WaitlistOffer | None:
    return WaitlistOffer.objects.filter(entry=entry, outcome=OfferOutcome.OPEN).first()


def test_freeing_time_where_nobody_waits_writes_nothing(salon, service, full_day, manager):
    booking_cancel(booking_id=full_day[2].pk, actor=manager)
    assert not FreedTime.objects.exists()
    # Once someone waits at the salon, the next cancellation is announced.
    waitlist_join(customer=make_user(), service=service, day=full_day[0].start.date() + timedelta(days=1))
    FreedTime.objects.all().delete()
    booking_cancel(booking_id=full_day[3].pk, actor=manager)
    assert list(FreedTime.objects.values_list("reason", flat=True)) == ["cancelled"]


def test_a_cancellation_writes_freed_time_and_the_first_entry_gets_the_offer(
    salon, service, staff, day, full_day, manager
):
    first, second = waiting(service, day, language="en")
    FreedTime.objects.all().delete()  # joining asks for a round too
    booking_cancel(booking_id=full_day[2].pk, actor=manager)
    assert list(FreedTime.objects.values_list("first_day", "reason")) == [(day, "cancelled")]
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    assert not FreedTime.objects.exists()
    first.refresh_from_db()
    assert first.status == EntryStatus.OFFERED
    offer = offer_of(first)
    assert offer.start == at(day, "11:00") and offer.expires_at > timezone.now()
    held = offer.booking
    assert (held.status, held.customer_id, held.hold_expires_at) == (
        BookingStatus.OFFERED,
        first.customer_id,
        offer.expires_at,
    )
    message = Notification.objects.get(kind=Kind.WAITLIST_OFFER)
    assert message.recipient_id == first.customer_id and message.language == "en"
    assert "held for you until" in message.body
    assert offer_of(second) is None
    # A second round finds nothing unread and does nothing.
    assert waitlist_match_salon(salon_id=salon.pk) == 0


def test_an_offer_is_busy_to_everyone_else_and_no_booking_in_their_lists(
    salon, service, staff, day, full_day, manager
):
    (entry,) = waiting(service, day, count=1)
    booking_cancel(booking_id=full_day[2].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    assert availability_for(salon=salon, service=service, date_from=day, days=1) == []
    with pytest.raises(ApplicationError) as refused:
        booking_create(customer=make_user(), salon=salon, service=service, start=at(day, "11:00"))
    assert refused.value.code == "slot_unavailable"
    listed = client_for(manager).get(f"/api/v1/manage/salons/{salon.pk}/bookings/").json()["results"]
    assert BookingStatus.OFFERED not in {booking["status"] for booking in listed}
    assert client_for(entry.customer).get("/api/v1/bookings/").json()["results"] == []


def test_decline_then_lapse_pass_the_slot_on_in_join_order(salon, service, staff, day, full_day, manager):
    first, second, third = waiting(service, day, count=3)
    booking_cancel(booking_id=full_day[5].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    waitlist_decline(user=first.customer, entry_id=first.pk)
    assert offer_of(first) is None and WaitlistEntry.objects.get(pk=first.pk).status == EntryStatus.WAITING
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    offer = offer_of(second)
    assert offer.start == at(day, "14:00")
    # Not due yet: nothing happens; past its time, it lapses and goes to the third.
    assert waitlist_offer_lapse(offer_id=offer.pk) is False
    assert waitlist_offer_lapse(offer_id=offer.pk, now=offer.expires_at) is True
    assert waitlist_offer_lapse(offer_id=offer.pk, now=offer.expires_at) is False
    assert waitlist_match_salon(salon_id=salon.pk, now=offer.expires_at) == 1
    assert offer_of(third).start == at(day, "14:00")
    # The first two were offered that slot already: never again.
    assert offer_of(first) is None and offer_of(second) is None
    assert Notification.objects.filter(kind=Kind.WAITLIST_OFFER).count() == 3


def test_accept_books_and_a_lapsed_offer_is_409(salon, service, staff, day, full_day, manager):
    first, second = waiting(service, day)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    booking = waitlist_accept(user=first.customer, entry_id=first.pk)
    assert booking.status == BookingStatus.CONFIRMED and booking.hold_expires_at is None
    assert WaitlistEntry.objects.get(pk=first.pk).status == EntryStatus.BOOKED
    assert Notification.objects.filter(kind=Kind.BOOKING_CONFIRMED, recipient=first.customer).count() == 1
    booking_cancel(booking_id=full_day[1].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    offer = offer_of(second)
    with pytest.raises(ApplicationError) as lapsed:
        waitlist_accept(user=second.customer, entry_id=second.pk, now=offer.expires_at)
    assert lapsed.value.code == "offer_expired" and lapsed.value.status == 409
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.LAPSED
    assert Booking.objects.get(pk=offer.booking_id).status == BookingStatus.EXPIRED


def test_accept_at_a_prepayment_salon_holds_for_payment(salon, service, staff, day, full_day, manager):
    salon.prepayment_required = True
    salon.save()
    (entry,) = waiting(service, day, count=1)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    booking = waitlist_accept(user=entry.customer, entry_id=entry.pk)
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert booking.hold_expires_at > timezone.now() + timedelta(minutes=salon.hold_minutes - 1)


def test_accept_refuses_a_slot_time_off_came_in_the_way_of(salon, service, staff, day, full_day, manager):
    (entry,) = waiting(service, day, count=1)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    TimeOff.objects.create(staff=staff, start=at(day, "09:00"), end=at(day, "10:00"))
    with pytest.raises(ApplicationError):
        waitlist_accept(user=entry.customer, entry_id=entry.pk)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == EntryStatus.WAITING


def test_no_offer_overlapping_the_customers_own_booking_nor_outside_the_window(
    salon, service, staff, day, full_day, manager
):
    windowed = waitlist_join(
        customer=make_user(), service=service, day=day, from_time=at(day, "15:00").time()
    )
    busy_customer = make_user()
    make_booking(
        service=service, staff=make_staff_free(salon, service), start=at(day, "09:30"), customer=busy_customer
    )
    busy = waitlist_join(customer=busy_customer, service=service, day=day)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)  # 09:00: overlaps 09:30, before 15:00
    assert waitlist_match_salon(salon_id=salon.pk) == 0
    booking_cancel(booking_id=full_day[8].pk, actor=manager)  # 17:00
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    assert offer_of(windowed).start == at(day, "17:00")
    assert offer_of(busy) is None


def make_staff_free(salon, service):
    """A second staff member with the day free but for the customer's own booking, on another service."""
    return make_staff(salon, services=[make_service(salon, name="Other")])


def test_every_freeing_path_announces_its_dates(salon, service, staff, day, full_day, manager):
    waiting(service, day + timedelta(days=3), count=1)  # where nobody waits, nothing is announced
    FreedTime.objects.all().delete()
    customer = make_user()
    salon.prepayment_required = True
    salon.save()
    make_booking(
        service=service,
        staff=make_staff_free(salon, service),
        start=at(day, "10:00"),
        customer=customer,
        status=BookingStatus.PENDING_PAYMENT,
        hold_expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert booking_expire_holds() == 1
    booking_reschedule(booking_id=full_day[11].pk, actor=manager, start=at(day + timedelta(days=1), "20:00"))
    time_off = TimeOff.objects.create(staff=staff, start=at(day, "09:00"), end=at(day, "10:00"))
    time_off_delete(time_off=time_off)
    closure = Closure.objects.create(salon=salon, date=day, end_date=day + timedelta(days=1))
    closure_delete(closure=closure)
    span = special_hours_create(salon=salon, start_date=day, end_date=day, hours=[], reason="Eid")
    special_hours_delete(span=span)
    working_hours_replace(staff=staff, ranges=[])
    staff_create(salon=salon, name="New", service_ids=[service.pk])
    reasons = list(FreedTime.objects.order_by("id").values_list("reason", "first_day", "last_day"))
    assert reasons == [
        ("hold_expired", day, day),
        ("rescheduled", day, day),
        ("time_off", day, day),
        ("closure_removed", day, day + timedelta(days=1)),
        ("special_hours", day, day),
        ("special_hours", day, day),
        ("working_hours", None, None),
        ("staff_services", None, None),
    ]


def test_the_sweep_lapses_overdue_offers_expires_past_entries_and_rechecks(
    salon, service, staff, day, full_day, manager
):
    first, second = waiting(service, day)
    past = WaitlistEntry.objects.create(
        customer=make_user(), salon=salon, service=service, date=timezone.localdate() - timedelta(days=1)
    )
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    FreedTime.objects.all().delete()  # a lost message: only the sweep will find the freed time
    assert waitlist_sweep() == 1
    offer = offer_of(first)
    assert WaitlistEntry.objects.get(pk=past.pk).status == EntryStatus.EXPIRED
    assert waitlist_sweep(now=offer.expires_at) == 1
    assert offer_of(second).start == offer.start


def test_leaving_with_an_open_offer_passes_it_on(salon, service, staff, day, full_day, manager):
    first, second = waiting(service, day)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    waitlist_match_salon(salon_id=salon.pk)
    waitlist_leave(user=first.customer, entry_id=first.pk)
    assert WaitlistOffer.objects.get(entry=first).outcome == OfferOutcome.WITHDRAWN
    waitlist_match_salon(salon_id=salon.pk)
    assert offer_of(second) is not None
