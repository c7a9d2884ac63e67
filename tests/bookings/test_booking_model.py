"""The Booking row: its database rules, and which bookings occupy a staff member's time."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from backend.bookings.models import Booking, BookingStatus
from tests.support.factories import make_booking, make_salon, make_service, make_staff

pytestmark = pytest.mark.django_db

NOON = datetime(2027, 1, 10, 12, tzinfo=UTC)


@pytest.fixture
def service():
    return make_service(make_salon(), duration_minutes=60, buffer_minutes=15)


@pytest.fixture
def staff(service):
    return make_staff(service.salon, services=[service])


def test_a_booking_occupies_its_staff_member_until_the_end_of_its_buffer(service, staff):
    booking = make_booking(service=service, staff=staff, start=NOON)
    assert booking.occupied_until == NOON + timedelta(minutes=75)
    assert booking.payment_status == "unpaid" and booking.currency == "SAR"


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"end": NOON}, "booking_end_after_start"),
        (
            {"end": NOON + timedelta(hours=1), "occupied_until": NOON + timedelta(minutes=59)},
            "occupied_until",
        ),
        ({"price_halalas": -1}, "price"),
        ({"refund_halalas": -1}, "refund"),
        ({"status": "lost"}, "booking_status_valid"),
        ({"payment_status": "maybe"}, "booking_payment_status_valid"),
    ],
)
def test_the_database_refuses_senseless_bookings(service, staff, changes, constraint):
    booking = make_booking(service=service, staff=staff, start=NOON)
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Booking.objects.filter(id=booking.id).update(**changes)


def test_occupying_finds_active_bookings_whose_buffer_overlaps(service, staff):
    make_booking(service=service, staff=staff, start=NOON)  # occupies 12:00-13:15
    cancelled = make_booking(service=service, staff=staff, start=NOON, status=BookingStatus.CANCELLED)
    held = make_booking(
        service=service, staff=staff, start=NOON + timedelta(hours=3), status=BookingStatus.PENDING_PAYMENT
    )

    def found(start: datetime, end: datetime) -> int:
        return Booking.objects.occupying(start=start, end=end).count()

    assert found(NOON + timedelta(minutes=74), NOON + timedelta(hours=2)) == 1  # inside the buffer
    assert found(NOON + timedelta(minutes=75), NOON + timedelta(hours=2)) == 0  # half-open: touching is free
    assert found(NOON - timedelta(hours=1), NOON) == 0
    assert found(NOON + timedelta(hours=3), NOON + timedelta(hours=4)) == 1  # a held slot occupies
    assert cancelled not in Booking.objects.active() and held in Booking.objects.active()


def test_an_items_active_flag_follows_its_bookings_status_whatever_the_path(service, staff):
    """The database keeps it (triggers): an update of the status frees or guards the occupations, and
    an item inserted or edited takes its booking's state, whatever it was told."""
    booking = make_booking(service=service, staff=staff, start=NOON)
    item = booking.items.get()
    assert item.active is True
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
    item.refresh_from_db()
    assert item.active is False
    item.active = True
    item.save()
    item.refresh_from_db()
    assert item.active is False
    # Freed: another booking takes the time; the cancelled one can no longer come back over it.
    make_booking(service=service, staff=staff, start=NOON)
    with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)
