"""The schedule load reads its timestamps with psycopg's own loader (backend/bookings/schedules.py): the
same aware datetimes Django's loader gives, and only in that one statement."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.schedules import schedules_load
from backend.salons.models import TimeOff
from tests.support.factories import at, make_booking, make_salon, make_service, make_staff, next_weekday, week

pytestmark = pytest.mark.django_db


def test_busy_times_and_time_off_load_as_the_orm_reads_them():
    salon = make_salon(hours=week("09:00-23:00"))
    service = make_service(salon, buffer_minutes=10)
    staff = make_staff(salon, services=[service], hours=week("09:00-23:00"))
    day = next_weekday(2)
    bookings = [
        make_booking(service=service, staff=staff, start=at(day, "10:00")),
        make_booking(
            service=service,
            staff=staff,
            start=at(day, "12:30:00.250000"),
            status=BookingStatus.PENDING_PAYMENT,
            hold_expires_at=timezone.now() + timedelta(minutes=5),
        ),
    ]
    off = TimeOff.objects.create(staff=staff, start=at(day, "15:00"), end=at(day, "16:45"))

    schedules = schedules_load(
        salon=salon, services=[service], date_from=day, days=1, staff_id=None, now=timezone.now()
    )

    (loaded,) = schedules.staff
    from_orm = Booking.objects.filter(pk__in=[b.pk for b in bookings]).order_by("start")
    assert sorted((i.start, i.end) for i in loaded.busy) == [(b.start, b.occupied_until) for b in from_orm]
    off.refresh_from_db()
    assert [(i.start, i.end) for i in loaded.time_off] == [(off.start, off.end)]
    moments = [m for i in (*loaded.busy, *loaded.time_off) for m in (i.start, i.end)]
    assert {m.tzinfo for m in moments} == {from_orm[0].start.tzinfo}, "the zone object Django gives"
    assert max(loaded.busy, key=lambda i: i.start).start.microsecond == 250000


def test_other_statements_on_the_connection_keep_djangos_loader():
    salon = make_salon()
    service = make_service(salon)
    make_staff(salon, services=[service])
    schedules_load(
        salon=salon,
        services=[service],
        date_from=timezone.localdate(),
        days=1,
        staff_id=None,
        now=timezone.now(),
    )
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(
            cursor.cursor.adapters.types["timestamptz"].oid, cursor.cursor.format
        )
    assert loader.__module__.startswith("django."), loader
