"""Availability and booking on the days the clocks move, in London, Cairo and Santiago, with the clock
pinned (`now` passed explicitly, as the services take it): each wall-clock start of the hours is offered
once, the skipped hour offers nothing, and a booking's stored start and end span its real duration."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.bookings.selectors import availability_for, start_check
from backend.bookings.services import booking_create
from tests.support.factories import make_salon, make_service, make_staff, make_user, week

pytestmark = pytest.mark.django_db

# (zone, the local date the clocks move in 2026, the hours around the change, the wall starts offered)
CASES = [
    # 01:00 GMT becomes 02:00 BST.
    (
        "Europe/London",
        date(2026, 3, 29),
        "00:00-04:00",
        ["00:00", "00:30", "02:00", "02:30", "03:00", "03:30"],
    ),
    # 02:00 BST becomes 01:00 GMT: 01:00-01:59 happens twice and is offered once.
    (
        "Europe/London",
        date(2026, 10, 25),
        "00:00-03:00",
        ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"],
    ),
    # Friday 00:00 EET becomes 01:00 EEST: Thursday's night range loses its last hour.
    (
        "Africa/Cairo",
        date(2026, 4, 23),
        "22:00-02:00",
        ["22:00", "22:30", "23:00", "23:30", "01:00", "01:30"],
    ),
    # Thursday 24:00 EEST becomes 23:00 EET: 23:00-23:59 happens twice and is offered once.
    (
        "Africa/Cairo",
        date(2026, 10, 29),
        "22:00-01:00",
        ["22:00", "22:30", "23:00", "23:30", "00:00", "00:30"],
    ),
    # Saturday 24:00 becomes Saturday 23:00 (-03 to -04).
    (
        "America/Santiago",
        date(2026, 4, 4),
        "22:00-01:00",
        ["22:00", "22:30", "23:00", "23:30", "00:00", "00:30"],
    ),
    # Sunday 00:00 becomes 01:00 (-04 to -03): Saturday's night range loses an hour.
    (
        "America/Santiago",
        date(2026, 9, 5),
        "22:00-02:00",
        ["22:00", "22:30", "23:00", "23:30", "01:00", "01:30"],
    ),
]


def _walls(slots, tz: ZoneInfo) -> list[str]:
    return [slot.start.astimezone(tz).strftime("%H:%M") for slot in slots]


@pytest.mark.parametrize(("zone", "day", "hours", "walls"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_each_wall_start_once_none_in_the_gap_and_bookings_last_their_real_duration(zone, day, hours, walls):
    tz = ZoneInfo(zone)
    now = datetime.combine(day - timedelta(days=3), time(12), tzinfo=UTC)
    salon = make_salon(timezone=zone, hours=week(hours), slot_step_minutes=30, min_notice_minutes=0)
    service = make_service(salon, duration_minutes=30, buffer_minutes=0)
    staff = make_staff(salon, services=[service], hours=week(hours))

    slots = availability_for(salon=salon, service=service, date_from=day, days=1, now=now)
    assert _walls(slots, tz) == walls
    assert len({slot.start for slot in slots}) == len(slots)
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)

    # Every offered start books, and its stored times are 30 real minutes apart.
    for slot in slots:
        check = start_check(salon=salon, service=service, staff_id=staff.id, start=slot.start, now=now)
        assert check.reasons[staff.id] is None
    booking = booking_create(
        customer=make_user(), salon=salon, service=service, staff_id=staff.id, start=slots[-1].start, now=now
    )
    assert booking.end - booking.start == timedelta(minutes=30)
    assert booking.start == slots[-1].start


@pytest.mark.parametrize(
    ("zone", "moment"),
    [("Europe/London", "2026-10-25T01:30:00+00:00"), ("Africa/Cairo", "2026-10-29T23:30:00+02:00")],
)
def test_the_second_occurrence_of_a_repeated_wall_time_is_not_bookable(zone, moment):
    hours = "00:00-03:00" if zone == "Europe/London" else "22:00-01:00"
    salon = make_salon(timezone=zone, hours=week(hours), slot_step_minutes=30, min_notice_minutes=0)
    service = make_service(salon, duration_minutes=30)
    staff = make_staff(salon, services=[service], hours=week(hours))
    start = datetime.fromisoformat(moment)
    now = start - timedelta(days=3)
    assert start.astimezone(ZoneInfo(zone)).fold == 1
    assert start_check(salon=salon, service=service, staff_id=staff.id, start=start, now=now).reasons[
        staff.id
    ]
    first = start - timedelta(hours=1)  # the same wall time, first occurrence
    assert (
        start_check(salon=salon, service=service, staff_id=staff.id, start=first, now=now).reasons[staff.id]
        is None
    )


def test_a_staff_member_free_only_in_the_repeated_hour_is_offered_none_of_it():
    """Found by the oracle property test: Santiago's Saturday 24:00 becomes 23:00, and time off until the
    clocks went back left only the second 23:00-23:59 free. That working set has one offset from start
    to end, which once hid the clock change from the engine: every start in it was offered."""
    from backend.salons.models import TimeOff

    day, tz = date(2026, 4, 4), ZoneInfo("America/Santiago")
    salon = make_salon(timezone=tz.key, hours=week("08:00-02:00"), slot_step_minutes=30, min_notice_minutes=0)
    service = make_service(salon, duration_minutes=30, buffer_minutes=0)
    staff = make_staff(salon, services=[service], hours=week("12:00-00:00"))
    clocks_went_back = datetime(2026, 4, 5, 3, tzinfo=UTC)  # 24:00 -03, that is 23:00 -04
    TimeOff.objects.create(staff=staff, start=datetime(2026, 4, 4, 15, tzinfo=UTC), end=clocks_went_back)
    now = datetime.combine(day - timedelta(days=1), time(12), tzinfo=UTC)

    slots = availability_for(salon=salon, service=service, date_from=day, days=1, now=now)

    assert slots == []
    assert clocks_went_back.astimezone(tz).fold == 1
    check = start_check(salon=salon, service=service, staff_id=staff.id, start=clocks_went_back, now=now)
    assert check.reasons[staff.id] is not None
