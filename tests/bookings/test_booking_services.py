"""Booking service paths the API tests cannot reach on their own: the payment confirmation, and the database
constraint catching what a locked re-check would have missed."""

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError
from django.utils import timezone

from backend.bookings import selectors as booking_selectors
from backend.bookings import services
from backend.bookings.models import Booking, BookingStatus
from backend.bookings.services import booking_cancel, booking_confirm, booking_create, booking_reschedule
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind, Notification
from tests.support.factories import (
    at,
    make_booking,
    make_salon,
    make_service,
    make_staff,
    make_user,
    next_weekday,
)

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.fixture
def day():
    return next_weekday(0)


@pytest.fixture
def service():
    return make_service(make_salon(), duration_minutes=60)


@pytest.fixture
def staff(service):
    return make_staff(service.salon, services=[service])


@pytest.fixture
def recheck_misses_clashes(monkeypatch):
    """A re-check that says every start is free: only the exclusion constraint stands in the way. The
    create and the reschedule both re-check through the one schedule loader, which here loses every busy
    time."""

    real_load = booking_selectors.schedules_load

    def nobody_busy(**kwargs):
        schedules = real_load(**kwargs)
        free = {
            service_id: [dataclasses.replace(schedule, busy=()) for schedule in staff]
            for service_id, staff in schedules.staff_by_service.items()
        }
        return dataclasses.replace(schedules, staff_by_service=free)

    monkeypatch.setattr(booking_selectors, "schedules_load", nobody_busy)


def test_paying_a_hold_confirms_it_once_with_its_message(service, staff, day):
    hold = make_booking(
        service=service, staff=staff, start=at(day, "10:00"), status=BookingStatus.PENDING_PAYMENT
    )
    assert booking_confirm(booking_id=hold.pk).status == BookingStatus.CONFIRMED
    assert booking_confirm(booking_id=hold.pk).status == BookingStatus.CONFIRMED  # a replayed payment event
    assert Notification.objects.filter(kind=Kind.BOOKING_CONFIRMED).count() == 1
    hold.refresh_from_db()
    assert hold.hold_expires_at is None


def test_an_expired_hold_cannot_be_confirmed(service, staff, day):
    expired = make_booking(service=service, staff=staff, start=at(day, "10:00"), status=BookingStatus.EXPIRED)
    with pytest.raises(ApplicationError) as raised:
        booking_confirm(booking_id=expired.pk)
    assert (raised.value.code, raised.value.status) == ("not_confirmable", 409)


def test_the_constraint_turns_a_missed_clash_on_create_into_slot_unavailable(
    service, staff, day, recheck_misses_clashes
):
    make_booking(service=service, staff=staff, start=at(day, "10:00"))
    with pytest.raises(ApplicationError) as raised:
        booking_create(
            customer=make_user(),
            salon=service.salon,
            service=service,
            start=at(day, "10:00"),
            staff_id=staff.pk,
        )
    assert (raised.value.code, raised.value.status) == ("slot_unavailable", 409)
    assert Booking.objects.count() == 1


def test_the_constraint_turns_a_missed_clash_on_reschedule_into_slot_unavailable(
    service, staff, day, recheck_misses_clashes
):
    make_booking(service=service, staff=staff, start=at(day, "14:00"))
    moving = make_booking(service=service, staff=staff, start=at(day, "10:00"))
    with pytest.raises(ApplicationError) as raised:
        booking_reschedule(booking_id=moving.pk, actor=moving.customer, start=at(day, "14:00"))
    assert raised.value.code == "slot_unavailable"
    moving.refresh_from_db()
    assert moving.start == at(day, "10:00")


def test_other_integrity_errors_are_not_mistaken_for_a_taken_slot(service, staff, day, monkeypatch):
    def broken_insert(**fields):
        raise IntegrityError('null value in column "price_halalas" violates not-null constraint')

    monkeypatch.setattr(Booking.objects, "create", broken_insert)
    with pytest.raises(IntegrityError):
        booking_create(
            customer=make_user(),
            salon=service.salon,
            service=service,
            start=at(day, "10:00"),
            staff_id=staff.pk,
        )


def test_closed_or_started_bookings_cannot_be_moved_and_too_far_is_too_far(service, staff, day):
    started = make_booking(service=service, staff=staff, start=timezone.now() - timedelta(minutes=1))
    cancelled = make_booking(
        service=service, staff=staff, start=at(day, "12:00"), status=BookingStatus.CANCELLED
    )
    for booking in (started, cancelled):
        with pytest.raises(ApplicationError) as raised:
            booking_reschedule(booking_id=booking.pk, actor=booking.customer, start=at(day, "16:00"))
        assert raised.value.code == "not_reschedulable"
    upcoming = make_booking(service=service, staff=staff, start=at(day, "10:00"))
    with pytest.raises(ApplicationError) as raised:
        booking_reschedule(
            booking_id=upcoming.pk, actor=upcoming.customer, start=at(day, "10:00").replace(year=9999)
        )
    assert raised.value.code == "too_far_ahead"


def test_a_deactivated_customer_gets_no_message(service, staff, day):
    customer = make_user(is_active=False)
    booking = make_booking(service=service, staff=staff, customer=customer, start=at(day, "10:00"))
    booking_cancel(booking_id=booking.pk, actor=customer)
    assert not Notification.objects.exists()


def test_other_integrity_errors_on_reschedule_are_not_mistaken_for_a_taken_slot(
    service, staff, day, monkeypatch
):
    moving = make_booking(service=service, staff=staff, start=at(day, "10:00"))

    def broken_save(self, *args, **kwargs):
        raise IntegrityError('new row violates check constraint "booking_end_after_start"')

    monkeypatch.setattr(Booking, "save", broken_save)
    with pytest.raises(IntegrityError):
        booking_reschedule(booking_id=moving.pk, actor=moving.customer, start=at(day, "12:00"))


def test_a_staff_members_bookings_are_cancelled_in_batches_soonest_first(service, staff, day):
    bookings = [
        make_booking(service=service, staff=staff, start=at(day, wall))
        for wall in ("14:00", "10:00", "12:00")
    ]
    first = services.bookings_cancel_upcoming_of_staff(staff=staff, limit=2)
    assert (first.cancelled, first.remaining) == (2, 1)
    cancelled = Booking.objects.filter(status=BookingStatus.CANCELLED).values_list("pk", flat=True)
    assert sorted(cancelled) == sorted([bookings[1].pk, bookings[2].pk])  # 10:00 and 12:00
    second = services.bookings_cancel_upcoming_of_staff(staff=staff, limit=2)
    assert (second.cancelled, second.remaining) == (1, 0)
    assert not Booking.objects.exclude(status=BookingStatus.CANCELLED).exists()
