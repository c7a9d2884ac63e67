"""GET /salons/{id}/availability/ through HTTP: every contract rule, time zones and DST, bad input, and a
fixed number of SQL queries whatever the number of staff members and days."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.bookings import selectors
from backend.bookings.availability import Rejection
from backend.bookings.models import BookingStatus
from backend.bookings.selectors import availability_for
from backend.core.errors import ApplicationError
from backend.salons.models import Closure, TimeOff
from tests.core.test_errors import assert_error_shape
from tests.support.factories import (
    at,
    make_booking,
    make_salon,
    make_service,
    make_staff,
    next_weekday,
    week,
)

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY, TUESDAY = 0, 1
AVAILABILITY_QUERIES = 2  # the service with its salon, and the schedules in one statement


def availability(api_client, salon, service, day: date, **params):
    return api_client.get(
        f"/api/v1/salons/{salon.id}/availability/",
        {"service": service.id, "date": day.isoformat(), **params},
    )


def starts(response, *, staff_id: int | None = None) -> list[str]:
    assert response.status_code == 200, response.content
    return [
        slot["start"] for slot in response.json()["slots"] if staff_id is None or slot["staff_id"] == staff_id
    ]


def iso(day: date, wall: str, offset: str = "+03:00") -> str:
    return f"{day.isoformat()}T{wall}:00{offset}"


@pytest.fixture
def monday() -> date:
    return next_weekday(MONDAY)


@pytest.fixture
def salon():
    return make_salon(hours=week("10:00-13:00", "16:00-23:00"), slot_step_minutes=60)


@pytest.fixture
def service(salon):
    return make_service(salon, duration_minutes=60)


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service], hours=week("10:00-13:00", "16:00-18:00"))


# --- The rules ----------------------------------------------------------------------------------------
def test_slots_follow_business_and_working_hours_in_the_salon_zone(api_client, salon, service, staff, monday):
    response = availability(api_client, salon, service, monday)
    assert response.json()["timezone"] == "Asia/Riyadh"
    assert response.json()["slots"][0] == {
        "start": iso(monday, "10:00"),
        "end": iso(monday, "11:00"),
        "staff_id": staff.id,
    }
    assert starts(response) == [iso(monday, wall) for wall in ("10:00", "11:00", "12:00", "16:00", "17:00")]


def test_a_day_off_for_the_staff_member_has_no_slots(api_client, salon, service, monday):
    make_staff(salon, services=[service], hours=week("10:00-13:00", days=[TUESDAY]))
    assert starts(availability(api_client, salon, service, monday)) == []
    assert starts(availability(api_client, salon, service, monday + timedelta(days=1))) != []


def test_a_closure_day_has_no_slots(api_client, salon, service, staff, monday):
    Closure.objects.create(salon=salon, date=monday)
    response = availability(api_client, salon, service, monday, days=2)
    assert starts(response)
    assert all(not start.startswith(monday.isoformat()) for start in starts(response))


def test_time_off_removes_just_its_part(api_client, salon, service, staff, monday):
    TimeOff.objects.create(staff=staff, start=at(monday, "11:00"), end=at(monday, "12:00"))
    assert starts(availability(api_client, salon, service, monday)) == [
        iso(monday, wall) for wall in ("10:00", "12:00", "16:00", "17:00")
    ]


def test_an_active_booking_blocks_with_its_buffer_and_the_grid_restarts_after_it(
    api_client, salon, service, staff, monday
):
    buffered = make_service(salon, duration_minutes=30, buffer_minutes=15)
    make_booking(service=buffered, staff=staff, start=at(monday, "10:00"))  # occupies 10:00-10:45
    assert starts(availability(api_client, salon, service, monday)) == [
        iso(monday, wall) for wall in ("10:45", "11:45", "16:00", "17:00")
    ]


@pytest.mark.parametrize(
    ("status", "blocks"),
    [
        (BookingStatus.PENDING_PAYMENT, True),
        (BookingStatus.CONFIRMED, True),
        (BookingStatus.CANCELLED, False),
        (BookingStatus.EXPIRED, False),
        (BookingStatus.COMPLETED, False),
        (BookingStatus.NO_SHOW, False),
    ],
)
def test_only_active_bookings_block(api_client, salon, service, staff, monday, status, blocks):
    make_booking(service=service, staff=staff, start=at(monday, "10:00"), status=status)
    assert (iso(monday, "10:00") not in starts(availability(api_client, salon, service, monday))) is blocks


def test_the_new_service_buffer_may_run_past_closing_but_not_into_a_booking(api_client, salon, staff, monday):
    buffered = make_service(salon, duration_minutes=60, buffer_minutes=30)
    staff.staff_services.create(service=buffered)
    listed = starts(availability(api_client, salon, buffered, monday))
    assert iso(monday, "12:00") in listed  # its buffer runs past 13:00, into the break
    make_booking(service=buffered, staff=staff, start=at(monday, "16:30"))
    listed = starts(availability(api_client, salon, buffered, monday))
    assert iso(monday, "16:00") not in listed  # 16:00-17:00 + 30 min buffer would reach the 16:30 booking


def test_min_notice_and_horizon_count_from_now(api_client, salon, service, staff):
    salon.min_notice_minutes = 24 * 60
    salon.horizon_days = 3
    salon.save()
    now = timezone.now()
    today = now.astimezone(RIYADH).date()
    slots = availability(api_client, salon, service, today, days=7).json()["slots"]
    assert slots
    first, last = (datetime.fromisoformat(slots[i]["start"]) for i in (0, -1))
    assert first >= now + timedelta(days=1)
    assert last <= now + timedelta(days=3) + timedelta(minutes=1)
    assert last > now + timedelta(days=2)


def test_days_past_the_horizon_answer_200_with_no_slots(api_client, salon, service, staff):
    far = timezone.localdate() + timedelta(days=salon.horizon_days + 2)
    response = availability(api_client, salon, service, far, days=31)
    assert response.status_code == 200
    assert response.json() == {"timezone": "Asia/Riyadh", "slots": []}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2000-01-01"])
def test_dates_far_away_answer_200_with_no_slots(api_client, salon, service, staff, day):
    response = api_client.get(
        f"/api/v1/salons/{salon.id}/availability/", {"service": service.id, "date": day, "days": 31}
    )
    assert response.status_code == 200, response.content
    assert response.json()["slots"] == []


def test_any_staff_is_the_union_sorted_by_start_then_staff(api_client, salon, service, staff, monday):
    other = make_staff(salon, services=[service], hours=week("11:00-13:00"))
    slots = availability(api_client, salon, service, monday).json()["slots"]
    expected = [
        (iso(monday, wall), member.id) for wall in ("10:00", "11:00", "12:00") for member in (staff, other)
    ]
    expected.remove((iso(monday, "10:00"), other.id))  # `other` starts at 11:00
    assert [(slot["start"], slot["staff_id"]) for slot in slots[:5]] == sorted(expected)
    assert [slot["start"] for slot in slots] == sorted(slot["start"] for slot in slots)


def test_staff_filter_and_per_staff_duration(api_client, salon, service, staff, monday):
    slow = make_staff(salon, services=[service], hours=week("10:00-13:00"), durations={service.id: 90})
    response = availability(api_client, salon, service, monday, staff=slow.id)
    assert {slot["staff_id"] for slot in response.json()["slots"]} == {slow.id}
    assert response.json()["slots"][0] == {
        "start": iso(monday, "10:00"),
        "end": iso(monday, "11:30"),
        "staff_id": slow.id,
    }
    assert starts(response) == [iso(monday, "10:00"), iso(monday, "11:00")]  # 12:00+90 min passes 13:00


def test_inactive_staff_offer_nothing(api_client, salon, service, staff, monday):
    staff.is_active = False
    staff.save()
    assert starts(availability(api_client, salon, service, monday)) == []


def test_several_days_cover_each_local_date(api_client, salon, service, staff, monday):
    listed = starts(availability(api_client, salon, service, monday, days=3))
    assert len(listed) == 15
    assert {start[:10] for start in listed} == {(monday + timedelta(days=n)).isoformat() for n in range(3)}


# --- Time zones and DST ---------------------------------------------------------------------------------
def _next_offset_change(tz: ZoneInfo, *, forward: bool) -> date:
    """The next local date on which `tz` moves its clocks forward (or back)."""
    day = timezone.localdate() + timedelta(days=2)
    for _ in range(400):
        before, after = (
            datetime.combine(day + timedelta(days=n), time(12), tzinfo=tz).utcoffset() for n in (0, 1)
        )
        if (after > before) if forward else (after < before):
            return day + timedelta(days=1)
        day += timedelta(days=1)
    raise AssertionError("no DST change within 400 days")


def test_riyadh_slots_belong_to_the_local_date_across_midnight_utc(api_client, service, monday):
    salon = make_salon(hours=week("00:00-02:00", "22:00-23:59"), slot_step_minutes=60)
    riyadh_service = make_service(salon, duration_minutes=60)
    make_staff(salon, services=[riyadh_service], hours=week("00:00-23:59"))
    listed = starts(availability(api_client, salon, riyadh_service, monday))
    assert listed == [iso(monday, wall) for wall in ("00:00", "01:00", "22:00")]


@pytest.mark.parametrize("forward", [True, False], ids=["spring_forward", "fall_back"])
def test_berlin_days_around_a_dst_change_keep_their_wall_hours(api_client, forward):
    change = _next_offset_change(BERLIN, forward=forward)
    salon = make_salon(timezone="Europe/Berlin", hours=week("09:00-12:00"), slot_step_minutes=60)
    service = make_service(salon, duration_minutes=60)
    make_staff(salon, services=[service])
    response = availability(api_client, salon, service, change - timedelta(days=1), days=3)
    assert response.json()["timezone"] == "Europe/Berlin"
    before, after = ("+01:00", "+02:00") if forward else ("+02:00", "+01:00")
    expected = [
        iso(day, wall, offset)
        for day, offset in (
            (change - timedelta(days=1), before),
            (change, after),
            (change + timedelta(days=1), after),
        )
        for wall in ("09:00", "10:00", "11:00")
    ]
    assert starts(response) == expected


def test_berlin_night_hours_across_the_spring_gap_last_one_real_hour_less(api_client):
    change = _next_offset_change(BERLIN, forward=True)
    salon = make_salon(timezone="Europe/Berlin", hours=week("01:00-04:00"), slot_step_minutes=60)
    service = make_service(salon, duration_minutes=60)
    make_staff(salon, services=[service], hours=week("00:00-23:59"))
    assert starts(availability(api_client, salon, service, change)) == [
        iso(change, "01:00", "+01:00"),
        iso(change, "03:00", "+02:00"),
    ]


def test_berlin_night_hours_across_the_fall_back_offer_the_repeated_hour_once(api_client):
    change = _next_offset_change(BERLIN, forward=False)
    salon = make_salon(timezone="Europe/Berlin", hours=week("01:00-04:00"), slot_step_minutes=60)
    service = make_service(salon, duration_minutes=60)
    make_staff(salon, services=[service], hours=week("00:00-23:59"))
    assert starts(availability(api_client, salon, service, change)) == [
        iso(change, "01:00", "+02:00"),
        iso(change, "02:00", "+02:00"),
        iso(change, "03:00", "+01:00"),
    ]


# --- One engine for the list and for booking ------------------------------------------------------------
def start_check(*, salon, service, staff_id, start):
    check = selectors.start_check(salon=salon, service=service, staff_id=staff_id, start=start)
    return check.reasons[staff_id]


def test_every_listed_slot_passes_start_check_and_nothing_between_does(salon, service, staff, monday):
    other = make_staff(salon, services=[service], hours=week("12:00-23:00"))
    make_booking(service=service, staff=other, start=at(monday, "17:00"))
    slots = availability_for(salon=salon, service=service, date_from=monday, days=1)
    assert slots
    for slot in slots:
        assert start_check(salon=salon, service=service, staff_id=slot.staff_id, start=slot.start) is None
        anyone = selectors.start_check(salon=salon, service=service, start=slot.start)
        assert anyone.reasons[slot.staff_id] is None
    listed = {(slot.start, slot.staff_id) for slot in slots}
    moment = at(monday, "00:00")
    while moment < at(monday + timedelta(days=1), "00:00"):
        for member in (staff, other):
            reason = start_check(salon=salon, service=service, staff_id=member.id, start=moment)
            assert (reason is None) == ((moment.astimezone(UTC), member.id) in listed)
        moment += timedelta(minutes=30)


def test_start_check_names_the_broken_rule(salon, service, staff, monday):
    make_booking(service=service, staff=staff, start=at(monday, "11:00"))
    check = lambda wall: start_check(salon=salon, service=service, staff_id=staff.id, start=at(monday, wall))  # noqa: E731
    assert check("10:00") is None
    assert check("10:30") == Rejection.SLOT_UNAVAILABLE
    assert check("11:00") == Rejection.SLOT_UNAVAILABLE
    assert check("14:00") == Rejection.OUTSIDE_WORKING_HOURS
    assert check("16:15") == Rejection.NOT_ON_SLOT_GRID
    past = timezone.now() - timedelta(days=2)
    assert start_check(salon=salon, service=service, staff_id=staff.id, start=past) == Rejection.TOO_SOON
    far = timezone.now() + timedelta(days=salon.horizon_days + 1)
    assert start_check(salon=salon, service=service, staff_id=staff.id, start=far) == Rejection.TOO_FAR_AHEAD


def test_start_check_refuses_a_staff_member_without_the_service(salon, service, monday):
    unqualified = make_staff(salon)
    with pytest.raises(ApplicationError) as raised:
        start_check(salon=salon, service=service, staff_id=unqualified.id, start=at(monday, "10:00"))
    assert raised.value.code == "staff_not_qualified"


# --- Bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date": "2026-13-01"}, "date"),
        ({"date": "tomorrow"}, "date"),
        ({"date": "2026-12-01T10:00:00+03:00"}, "date"),
        ({"date": ""}, "date"),
        ({"days": "0"}, "days"),
        ({"days": "32"}, "days"),
        ({"days": "abc"}, "days"),
        ({"days": "1.5"}, "days"),
        ({"service": "abc"}, "service"),
        ({"service": "0"}, "service"),
        ({"service": str(2**70)}, "service"),
        ({"service": "999999999"}, "service"),
        ({"staff": "abc"}, "staff"),
        ({"staff": "999999999"}, "staff"),
    ],
)
def test_bad_query_values_are_400_naming_the_field(api_client, salon, service, staff, monday, params, field):
    query = {"service": service.id, "date": monday.isoformat(), **params}
    response = api_client.get(f"/api/v1/salons/{salon.id}/availability/", query)
    error = assert_error_shape(response, 400, "validation_error")
    assert field in error["fields"]


@pytest.mark.parametrize("missing", ["service", "date"])
def test_service_and_date_are_required(api_client, salon, service, monday, missing):
    query = {"service": service.id, "date": monday.isoformat()}
    del query[missing]
    response = api_client.get(f"/api/v1/salons/{salon.id}/availability/", query)
    assert missing in assert_error_shape(response, 400, "validation_error")["fields"]


def test_services_of_other_salons_and_inactive_ones_are_unknown(api_client, salon, service, staff, monday):
    elsewhere = make_service(make_salon())
    assert (
        "service"
        in assert_error_shape(availability(api_client, salon, elsewhere, monday), 400, "validation_error")[
            "fields"
        ]
    )
    service.is_active = False
    service.save()
    assert (
        "service"
        in assert_error_shape(availability(api_client, salon, service, monday), 400, "validation_error")[
            "fields"
        ]
    )


def test_staff_of_another_salon_is_unknown(api_client, salon, service, monday):
    stranger = make_staff(make_salon(), services=[make_service(make_salon())])
    response = availability(api_client, salon, service, monday, staff=stranger.id)
    assert "staff" in assert_error_shape(response, 400, "validation_error")["fields"]


def test_a_staff_member_without_the_service_is_staff_not_qualified(api_client, salon, service, monday):
    unqualified = make_staff(salon)
    for day in (monday, date(9999, 1, 1)):  # whatever the dates
        response = availability(api_client, salon, service, day, staff=unqualified.id)
        assert_error_shape(response, 400, "staff_not_qualified")
    arabic = api_client.get(
        f"/api/v1/salons/{salon.id}/availability/",
        {"service": service.id, "date": monday.isoformat(), "staff": unqualified.id},
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    assert (
        assert_error_shape(arabic, 400, "staff_not_qualified")["message"]
        != "This staff member does not perform this service."
    )


@pytest.mark.parametrize("salon_id", ["999999999", str(2**70)])
def test_unknown_salon_is_404(api_client, service, monday, salon_id):
    response = api_client.get(
        f"/api/v1/salons/{salon_id}/availability/", {"service": service.id, "date": monday.isoformat()}
    )
    assert_error_shape(response, 404, "not_found")


@pytest.mark.parametrize("params", [{}, {"date": "tomorrow"}, {"service": "abc"}, {"days": "0"}])
def test_an_unknown_salon_is_404_before_the_query_is_checked(api_client, service, monday, params):
    query = {"service": service.id, "date": monday.isoformat(), **params}
    assert_error_shape(api_client.get("/api/v1/salons/999999999/availability/", query), 404, "not_found")


def test_a_known_salon_with_a_bad_query_is_400_in_one_query(
    api_client, salon, service, monday, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the salon, to answer 404 first if it were unknown
        response = availability(api_client, salon, service, monday, days="0")
    assert "days" in assert_error_shape(response, 400, "validation_error")["fields"]


# --- A fixed number of queries --------------------------------------------------------------------------
def _busy_salon(staff_count: int, monday: date):
    salon = make_salon(hours=week("10:00-13:00", "16:00-23:00"), slot_step_minutes=15)
    service = make_service(salon, duration_minutes=30, buffer_minutes=10)
    members = [
        make_staff(salon, services=[service], hours=week("10:00-13:00", "16:00-23:00"))
        for _ in range(staff_count)
    ]
    for offset, member in enumerate(members):
        make_booking(service=service, staff=member, start=at(monday + timedelta(days=offset % 7), "16:00"))
        TimeOff.objects.create(staff=member, start=at(monday, "10:00"), end=at(monday, "11:00"))
    Closure.objects.create(salon=salon, date=monday + timedelta(days=3))
    return salon, service


def test_availability_takes_the_same_few_queries_for_1_staff_1_day_and_20_staff_31_days(
    api_client, monday, django_assert_max_num_queries
):
    small_salon, small_service = _busy_salon(1, monday)
    big_salon, big_service = _busy_salon(20, monday)
    with django_assert_max_num_queries(AVAILABILITY_QUERIES), CaptureQueriesContext(connection) as small:
        assert starts(availability(api_client, small_salon, small_service, monday, days=1))
    with django_assert_max_num_queries(AVAILABILITY_QUERIES), CaptureQueriesContext(connection) as big:
        response = availability(api_client, big_salon, big_service, monday, days=31)
    assert len(starts(response)) > 20 * 25 * 30
    assert len(small.captured_queries) == len(big.captured_queries)


@pytest.mark.parametrize(("staff_count", "days"), [(1, 1), (20, 7)])
def test_availability_reads_the_service_with_its_salon_then_the_schedules(
    api_client, monday, django_assert_num_queries, staff_count, days
):
    salon, service = _busy_salon(staff_count, monday)
    with django_assert_num_queries(2) as captured:
        response = availability(api_client, salon, service, monday, days=days)
    assert len(starts(response)) > staff_count * days
    service_with_salon = captured.captured_queries[0]["sql"]
    assert 'FROM "salons_service" INNER JOIN "salons_salon"' in service_with_salon
