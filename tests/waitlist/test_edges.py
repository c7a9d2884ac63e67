"""The waitlist's edges: the admin, windows, lost races, answers to offers that are no longer offers,
open-ended freed time, and the tasks the workers run (called here in-process)."""

from datetime import time, timedelta

import pytest
from django.db import transaction
from django.test import Client

from backend.bookings.availability import Slot
from backend.bookings.models import Booking, BookingStatus
from backend.bookings.services import booking_cancel, booking_offer_accept, booking_offer_release
from backend.core.errors import ApplicationError
from backend.salons.services import staff_deactivate
from backend.waitlist.matching import _offer, waitlist_offer_lapse
from backend.waitlist.models import FreedTime, OfferOutcome, WaitlistEntry, WaitlistOffer
from backend.waitlist.services import waitlist_accept, waitlist_join
from tests.support.factories import at, make_admin, make_staff, make_user
from worker.tasks.waitlist import lapse_offer, match, sweep

pytestmark = pytest.mark.django_db


def test_the_admin_shows_entries_offers_and_freed_time_read_only(
    salon, service, staff, day, full_day, manager
):
    entry = waitlist_join(customer=make_user(), service=service, day=day)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    match.run(salon.pk)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_admin())
    assert client.get("/admin/waitlist/waitlistentry/").status_code == 200
    page = client.get(f"/admin/waitlist/waitlistentry/{entry.pk}/change/")
    assert page.status_code == 200 and str(WaitlistOffer.objects.get()) in page.content.decode()
    assert client.get("/admin/waitlist/waitlistentry/add/").status_code == 403
    FreedTime.objects.create(salon=salon, reason="test")
    assert client.get("/admin/waitlist/freedtime/").status_code == 200
    assert str(entry) and str(FreedTime.objects.get())


def test_a_window_ending_early_takes_only_slots_that_end_by_then(
    salon, service, staff, day, full_day, manager
):
    early = waitlist_join(customer=make_user(), service=service, day=day, to_time=time(10, 30))
    booking_cancel(booking_id=full_day[1].pk, actor=manager)  # 10:00-11:00 ends after 10:30
    assert match.run(salon.pk) == 0
    booking_cancel(booking_id=full_day[0].pk, actor=manager)  # 09:00-10:00
    assert match.run(salon.pk) == 1
    assert WaitlistOffer.objects.get(entry=early).start == at(day, "09:00")


def test_an_open_ended_freed_row_rechecks_every_date(salon, service, staff, day, full_day, manager):
    later = waitlist_join(customer=make_user(), service=service, day=day + timedelta(days=1))
    FreedTime.objects.all().delete()
    FreedTime.objects.create(salon=salon, first_day=day, last_day=day, reason="test")
    FreedTime.objects.create(salon=salon, reason="working_hours")  # every date
    assert match.run(salon.pk) == 1  # the day after is not booked up: its first hour goes to the entry
    assert WaitlistOffer.objects.get(entry=later).start == at(day + timedelta(days=1), "09:00")


def test_a_slot_taken_meanwhile_is_no_offer(salon, service, staff, day, full_day):
    entry = waitlist_join(customer=make_user(), service=service, day=day)
    busy = Slot(at(day, "09:00"), at(day, "10:00"), staff.pk)
    assert _offer(entry=entry, salon=salon, slot=busy, now=at(day, "08:00") - timedelta(days=1)) is False
    assert not WaitlistOffer.objects.exists()


def test_answers_to_what_is_no_longer_an_offer(salon, service, staff, day, full_day, manager):
    entry = waitlist_join(customer=make_user(), service=service, day=day)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    match.run(salon.pk)
    offer = WaitlistOffer.objects.get(entry=entry)
    assert lapse_offer.run(offer.pk) is False  # not due
    assert waitlist_offer_lapse(offer_id=10**9) is False
    with transaction.atomic():
        assert booking_offer_release(booking_id=offer.booking_id) is True
        assert booking_offer_release(booking_id=offer.booking_id) is False
        assert booking_offer_accept(booking_id=offer.booking_id) is None
    assert Booking.objects.get(pk=offer.booking_id).status == BookingStatus.EXPIRED


def test_the_sweep_task_runs_a_round(salon, service, staff, day, full_day, manager):
    entry = waitlist_join(customer=make_user(), service=service, day=day)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    FreedTime.objects.all().delete()
    assert sweep.run() == 1
    assert WaitlistOffer.objects.get(entry=entry).outcome == OfferOutcome.OPEN
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "offered"


def test_an_entry_whose_staff_member_left_neither_blocks_others_nor_gets_an_offer(
    salon, service, staff, day, full_day, manager
):
    other = make_staff(salon, services=[service], name="Other")
    gone = waitlist_join(customer=make_user(), service=service, day=day, staff_id=other.pk)
    after = waitlist_join(customer=make_user(), service=service, day=day, staff_id=staff.pk)
    staff_deactivate(staff=other)
    booking_cancel(booking_id=full_day[0].pk, actor=manager)
    assert match.run(salon.pk) == 1
    assert not WaitlistOffer.objects.filter(entry=gone).exists()
    offer = WaitlistOffer.objects.get(entry=after)
    # The offered staff member leaves before the customer accepts: the offer has lapsed.
    staff_deactivate(staff=staff)
    with pytest.raises(ApplicationError) as lapsed:
        waitlist_accept(user=after.customer, entry_id=after.pk)
    assert lapsed.value.code == "offer_expired"
    assert Booking.objects.get(pk=offer.booking_id).status == BookingStatus.EXPIRED
