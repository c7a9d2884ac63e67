"""The availability engine: one example per contract rule, then properties against a brute-force oracle."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.bookings.availability import (
    HoursRange,
    Interval,
    Rejection,
    SalonRules,
    Slot,
    StaffSchedule,
    WeeklyHours,
    bookable_staff_ids,
    check_start,
    slots_for_any_staff,
    slots_for_staff,
)
from tests.support.factories import at

RIYADH = ZoneInfo("Asia/Riyadh")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 30)
TUESDAY = MONDAY + timedelta(days=1)
LONG_BEFORE = datetime(2026, 11, 1, tzinfo=RIYADH)
NO_BUFFER = timedelta(0)
EVERY_DAY = range(7)


def hours(*ranges: str, weekdays: range | tuple[int, ...] = EVERY_DAY) -> WeeklyHours:
    """Weekly hours from "09:00-13:00" style ranges, the same on each of ``weekdays``."""
    return WeeklyHours(
        tuple(
            HoursRange(weekday, time.fromisoformat(start), time.fromisoformat(end))
            for weekday in weekdays
            for start, end in (hours_range.split("-") for hours_range in ranges)
        )
    )


def salon(
    *business: str,
    tz: ZoneInfo = RIYADH,
    closures: frozenset[date] = frozenset(),
    step: int = 60,
    notice: int = 0,
    horizon: int = 60,
) -> SalonRules:
    return SalonRules(
        tz=tz,
        business_hours=hours(*business),
        closures=closures,
        slot_step_minutes=step,
        min_notice_minutes=notice,
        horizon_days=horizon,
    )


def member(
    *working: str,
    staff_id: int = 1,
    duration: int = 60,
    time_off: tuple[Interval, ...] = (),
    busy: tuple[Interval, ...] = (),
) -> StaffSchedule:
    return StaffSchedule(
        staff_id=staff_id,
        working_hours=hours(*working),
        service_duration=timedelta(minutes=duration),
        time_off=time_off,
        busy=busy,
    )


def between(local_date: date, wall_times: str, tz: ZoneInfo = RIYADH) -> Interval:
    start, end = wall_times.split("-")
    return Interval(at(local_date, start, tz), at(local_date, end, tz))


def monday_slots(
    rules: SalonRules,
    staff: StaffSchedule,
    *,
    buffer: timedelta = NO_BUFFER,
    now: datetime = LONG_BEFORE,
    days: int = 1,
) -> list[Slot]:
    return slots_for_staff(rules=rules, staff=staff, buffer=buffer, date_from=MONDAY, days=days, now=now)


def wall_starts(slots: list[Slot], tz: ZoneInfo = RIYADH) -> list[str]:
    return [slot.start.astimezone(tz).strftime("%H:%M") for slot in slots]


# Examples, one per rule


def test_several_ranges_a_day_leave_the_break_out() -> None:
    rules = salon("09:00-13:00", "16:00-20:00")

    slots = monday_slots(rules, member("00:00-23:59"))

    assert wall_starts(slots) == ["09:00", "10:00", "11:00", "12:00", "16:00", "17:00", "18:00", "19:00"]


def test_slots_come_back_in_utc_with_the_end_after_the_service() -> None:
    slot = monday_slots(salon("09:00-10:00"), member("09:00-10:00"))[0]

    assert slot == Slot(
        start=datetime(2026, 11, 30, 6, tzinfo=UTC), end=datetime(2026, 11, 30, 7, tzinfo=UTC), staff_id=1
    )
    assert slot.start.tzinfo is UTC


def test_staff_hours_narrower_than_salon_hours_limit_the_slots() -> None:
    assert wall_starts(monday_slots(salon("09:00-21:00"), member("10:00-14:00"))) == [
        "10:00",
        "11:00",
        "12:00",
        "13:00",
    ]


def test_staff_hours_wider_than_salon_hours_are_cut_to_them() -> None:
    assert wall_starts(monday_slots(salon("10:00-14:00"), member("08:00-22:00"))) == [
        "10:00",
        "11:00",
        "12:00",
        "13:00",
    ]


def test_a_weekday_off_for_the_staff_member_has_no_slots() -> None:
    mondays_only = StaffSchedule(
        staff_id=1, working_hours=hours("09:00-11:00", weekdays=(0,)), service_duration=timedelta(hours=1)
    )

    slots = monday_slots(salon("09:00-11:00"), mondays_only, days=2)

    assert {slot.start.astimezone(RIYADH).date() for slot in slots} == {MONDAY}


def test_adjacent_ranges_form_one_working_interval() -> None:
    rules = salon("09:00-10:30", "10:30-12:00", step=30)

    slots = monday_slots(rules, member("09:00-12:00", duration=60))

    assert "10:00" in wall_starts(slots)


def test_a_closure_day_has_no_slots() -> None:
    rules = salon("09:00-11:00", closures=frozenset({MONDAY}))

    slots = monday_slots(rules, member("09:00-11:00"), days=2)

    assert [slot.start.astimezone(RIYADH).date() for slot in slots] == [TUESDAY, TUESDAY]


def test_time_off_for_part_of_a_day_removes_just_that_part() -> None:
    rules = salon("09:00-15:00", step=30)

    slots = monday_slots(rules, member("09:00-15:00", time_off=(between(MONDAY, "11:00-12:30"),)))

    assert wall_starts(slots) == ["09:00", "09:30", "10:00", "12:30", "13:00", "13:30", "14:00"]


def test_a_booking_with_its_buffer_pushes_the_next_slot() -> None:
    booking_with_buffer = between(MONDAY, "10:00-11:15")
    rules = salon("09:00-13:00", step=30)

    slots = monday_slots(rules, member("09:00-13:00", busy=(booking_with_buffer,)))

    assert wall_starts(slots) == ["09:00", "11:15", "11:45"]


def test_the_new_service_buffer_may_run_past_closing() -> None:
    slots = monday_slots(salon("09:00-12:00"), member("09:00-12:00"), buffer=timedelta(minutes=45))

    assert wall_starts(slots) == ["09:00", "10:00", "11:00"]


def test_the_new_service_buffer_may_not_run_into_a_booking() -> None:
    rules = salon("09:00-12:00", "12:30-17:00")
    staff = member("09:00-17:00", busy=(between(MONDAY, "12:30-13:30"),))

    fits = monday_slots(rules, staff, buffer=timedelta(minutes=30))
    clashes = monday_slots(rules, staff, buffer=timedelta(minutes=31))
    reason = check_start(
        rules=rules, staff=staff, buffer=timedelta(minutes=31), start=at(MONDAY, "11:00"), now=LONG_BEFORE
    )

    assert wall_starts(fits)[:3] == ["09:00", "10:00", "11:00"]
    assert wall_starts(clashes)[:3] == ["09:00", "10:00", "13:30"]
    assert reason == Rejection.SLOT_UNAVAILABLE


def test_min_notice_hides_starts_before_now_plus_notice_and_allows_exactly_that() -> None:
    rules = salon("09:00-13:00", step=30, notice=50)

    slots = monday_slots(rules, member("09:00-13:00"), now=at(MONDAY, "09:10"))

    assert wall_starts(slots) == ["10:00", "10:30", "11:00", "11:30", "12:00"]


def test_the_horizon_allows_exactly_now_plus_horizon_days_and_not_a_minute_later() -> None:
    rules = salon("09:00-13:00", step=1, horizon=2)
    now = at(MONDAY - timedelta(days=2), "10:00")
    staff = member("09:00-13:00")

    slots = monday_slots(rules, staff, now=now, days=2)

    assert wall_starts(slots)[-2:] == ["09:59", "10:00"]
    assert {slot.start.astimezone(RIYADH).date() for slot in slots} == {MONDAY}
    common = {"rules": rules, "staff": staff, "buffer": NO_BUFFER, "now": now}
    assert check_start(start=at(MONDAY, "10:00"), **common) is None
    assert check_start(start=at(MONDAY, "10:01"), **common) == Rejection.TOO_FAR_AHEAD


def test_the_grid_restarts_at_the_start_of_each_free_range() -> None:
    rules = salon("09:00-12:00", "12:45-16:00")
    staff = member("09:00-16:00", duration=30, busy=(between(MONDAY, "10:20-10:50"),))

    slots = monday_slots(rules, staff)

    assert wall_starts(slots) == ["09:00", "10:50", "12:45", "13:45", "14:45"]


def test_any_staff_is_the_union_sorted_by_start_then_staff_id() -> None:
    rules = salon("08:00-20:00")
    early = member("09:00-11:00", staff_id=7)
    late = member("10:00-12:00", staff_id=3)

    slots = slots_for_any_staff(
        rules=rules, staff_members=[early, late], buffer=NO_BUFFER, date_from=MONDAY, days=1, now=LONG_BEFORE
    )

    assert [(start, slot.staff_id) for start, slot in zip(wall_starts(slots), slots, strict=True)] == [
        ("09:00", 7),
        ("10:00", 3),
        ("10:00", 7),
        ("11:00", 3),
    ]
    singles = monday_slots(rules, early) + monday_slots(rules, late)
    assert sorted(singles, key=lambda slot: (slot.start, slot.staff_id)) == slots


def test_each_staff_member_has_their_own_service_duration() -> None:
    rules = salon("09:00-11:00", step=30)
    quick = member("09:00-11:00", staff_id=1, duration=60)
    slow = member("09:00-11:00", staff_id=2, duration=90)

    slots = slots_for_any_staff(
        rules=rules, staff_members=[quick, slow], buffer=NO_BUFFER, date_from=MONDAY, days=1, now=LONG_BEFORE
    )

    assert [(slot.staff_id, slot.end - slot.start) for slot in slots] == [
        (1, timedelta(minutes=60)),
        (2, timedelta(minutes=90)),
        (1, timedelta(minutes=60)),
        (2, timedelta(minutes=90)),
        (1, timedelta(minutes=60)),
    ]


def test_riyadh_wall_hours_are_utc_plus_three_all_year() -> None:
    rules = salon("09:00-13:00", "16:00-23:00")
    spring_forward_elsewhere = date(2026, 3, 29)

    slots = slots_for_staff(
        rules=rules,
        staff=member("00:00-23:59"),
        buffer=NO_BUFFER,
        date_from=spring_forward_elsewhere,
        days=1,
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )

    assert len(slots) == 4 + 7
    assert slots[0].start == datetime(2026, 3, 29, 6, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 3, 29, 20, tzinfo=UTC)


BERLIN_SPRING_FORWARD = date(2026, 3, 29)  # 02:00 CET becomes 03:00 CEST
BERLIN_FALL_BACK = date(2026, 10, 25)  # 03:00 CEST becomes 02:00 CET


def berlin_slots(local_date: date, *business: str, step: int = 60, duration: int = 60) -> list[Slot]:
    return slots_for_staff(
        rules=salon(*business, tz=BERLIN, step=step),
        staff=member("00:00-23:59", duration=duration),
        buffer=NO_BUFFER,
        date_from=local_date,
        days=1,
        now=datetime.combine(local_date - timedelta(days=7), time(), tzinfo=UTC),
    )


def utc_starts(slots: list[Slot]) -> list[str]:
    return [slot.start.astimezone(UTC).strftime("%m-%d %H:%M") for slot in slots]


def test_berlin_spring_forward_night_range_is_three_real_hours_and_day_range_eight() -> None:
    night = berlin_slots(BERLIN_SPRING_FORWARD, "01:00-05:00")
    day = berlin_slots(BERLIN_SPRING_FORWARD, "09:00-17:00")
    normal_night = berlin_slots(BERLIN_SPRING_FORWARD - timedelta(days=1), "01:00-05:00")

    assert utc_starts(night) == ["03-29 00:00", "03-29 01:00", "03-29 02:00"]
    assert wall_starts(night, BERLIN) == ["01:00", "03:00", "04:00"]
    assert len(normal_night) == 4
    assert len(day) == 8
    assert utc_starts(day)[0] == "03-29 07:00"


def test_berlin_fall_back_night_range_is_five_real_hours_and_offers_each_wall_start_once() -> None:
    night = berlin_slots(BERLIN_FALL_BACK, "01:00-05:00")
    day = berlin_slots(BERLIN_FALL_BACK, "09:00-17:00")

    # 02:00 CET (01:00 UTC) repeats 02:00 CEST: the repeated hour offers nothing.
    assert utc_starts(night) == ["10-24 23:00", "10-25 00:00", "10-25 02:00", "10-25 03:00"]
    assert wall_starts(night, BERLIN) == ["01:00", "02:00", "03:00", "04:00"]
    assert night[1].end - night[1].start == timedelta(hours=1)
    assert len(day) == 8
    assert utc_starts(day)[0] == "10-25 08:00"


def test_berlin_wall_time_in_the_spring_gap_is_read_with_the_offset_before_it() -> None:
    slots = berlin_slots(BERLIN_SPRING_FORWARD, "02:30-05:00", step=30, duration=30)

    # 02:30 does not exist; fold=0 reads it as 02:30 CET = 01:30 UTC = 03:30 CEST.
    assert wall_starts(slots, BERLIN) == ["03:30", "04:00", "04:30"]
    assert berlin_slots(BERLIN_SPRING_FORWARD, "02:15-02:45", step=15, duration=15) != []
    assert berlin_slots(BERLIN_SPRING_FORWARD, "02:30-03:00", step=15, duration=15) == []


def test_a_date_the_zone_skipped_has_no_slots_and_does_not_repeat_the_next_one() -> None:
    apia = ZoneInfo("Pacific/Apia")  # Samoa skipped 30 December 2011 when it moved across the date line.

    slots = slots_for_staff(
        rules=salon("09:00-11:00", tz=apia),
        staff=member("09:00-11:00"),
        buffer=NO_BUFFER,
        date_from=date(2011, 12, 29),
        days=3,
        now=datetime(2011, 12, 1, tzinfo=UTC),
    )

    assert [slot.start.astimezone(apia).strftime("%d %H:%M") for slot in slots] == [
        "29 09:00",
        "29 10:00",
        "31 09:00",
        "31 10:00",
    ]


CHECK_RULES = salon("09:00-12:00", "13:00-17:00", step=30, notice=60, horizon=3)
CHECK_STAFF = member(
    "09:00-17:00",
    duration=60,
    time_off=(between(MONDAY, "15:00-17:00"),),
    busy=(between(MONDAY, "10:00-11:00"),),
)
CHECK_NOW = at(MONDAY, "08:00")
FRIDAY = MONDAY + timedelta(days=4)  # Beyond the horizon of CHECK_NOW + 3 days


@pytest.mark.parametrize(
    ("wall_time", "local_date", "expected"),
    [
        ("08:30", MONDAY, Rejection.TOO_SOON),  # also outside hours: too_soon is reported first
        ("08:59", MONDAY, Rejection.TOO_SOON),  # also off the grid
        ("09:15", FRIDAY, Rejection.TOO_FAR_AHEAD),  # also off the grid
        ("08:00", FRIDAY, Rejection.TOO_FAR_AHEAD),  # also outside hours
        ("12:00", MONDAY, Rejection.OUTSIDE_WORKING_HOURS),  # the lunch break
        ("11:30", MONDAY, Rejection.OUTSIDE_WORKING_HOURS),  # runs into the break
        ("14:30", MONDAY, Rejection.OUTSIDE_WORKING_HOURS),  # runs into time off
        ("09:30", MONDAY, Rejection.SLOT_UNAVAILABLE),  # clashes with the booking at 10:00
        ("10:15", MONDAY, Rejection.SLOT_UNAVAILABLE),  # inside the booking, also off the grid
        ("11:10", MONDAY, Rejection.OUTSIDE_WORKING_HOURS),  # off the grid, and runs into the break
        ("13:10", MONDAY, Rejection.NOT_ON_SLOT_GRID),  # the grid is 13:00, 13:30, ...
        ("09:00", MONDAY, None),
        ("11:00", MONDAY, None),
        ("14:00", MONDAY, None),
    ],
)
def test_check_start_reports_the_first_broken_rule(
    wall_time: str, local_date: date, expected: Rejection | None
) -> None:
    reason = check_start(
        rules=CHECK_RULES,
        staff=CHECK_STAFF,
        buffer=NO_BUFFER,
        start=at(local_date, wall_time),
        now=CHECK_NOW,
    )

    assert reason == expected


def test_check_start_accepts_exactly_the_listed_starts_through_the_day() -> None:
    offered = {
        slot.start
        for slot in monday_slots(CHECK_RULES, CHECK_STAFF, now=CHECK_NOW, buffer=timedelta(minutes=15))
    }
    day_start = at(MONDAY, "00:00")

    accepted = {
        start
        for start in (day_start + timedelta(minutes=5 * step) for step in range(24 * 12))
        if check_start(
            rules=CHECK_RULES, staff=CHECK_STAFF, buffer=timedelta(minutes=15), start=start, now=CHECK_NOW
        )
        is None
    }

    assert accepted == offered
    assert len(offered) == 4


def test_bookable_staff_ids_keeps_the_given_order() -> None:
    free = member("09:00-17:00", staff_id=5)
    booked = member("09:00-17:00", staff_id=2, busy=(between(MONDAY, "10:00-11:00"),))
    off = member("09:00-17:00", staff_id=9, time_off=(between(MONDAY, "09:00-12:00"),))
    also_free = member("09:00-17:00", staff_id=1)

    ids = bookable_staff_ids(
        rules=salon("09:00-17:00"),
        staff_members=[free, booked, off, also_free],
        buffer=NO_BUFFER,
        start=at(MONDAY, "10:00"),
        now=LONG_BEFORE,
    )

    assert ids == [5, 1]


def test_naive_datetimes_and_bad_arguments_are_refused() -> None:
    rules, staff = salon("09:00-17:00"), member("09:00-17:00")
    with pytest.raises(ValueError, match="aware"):
        check_start(
            rules=rules, staff=staff, buffer=NO_BUFFER, start=datetime(2026, 11, 30, 9), now=LONG_BEFORE
        )
    with pytest.raises(ValueError, match="aware"):
        monday_slots(rules, staff, now=datetime(2026, 11, 1))
    with pytest.raises(ValueError, match="days"):
        monday_slots(rules, staff, days=32)
    with pytest.raises(ValueError, match="buffer"):
        monday_slots(rules, staff, buffer=timedelta(minutes=-5))
    with pytest.raises(ValueError, match="less than 24 hours"):
        HoursRange(0, time(10), time(10))
    with pytest.raises(ValueError, match="end after"):
        between(MONDAY, "10:00-10:00")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: HoursRange(7, time(9), time(17)), "weekday"),
        (lambda: HoursRange(-1, time(9), time(17)), "weekday"),
        (lambda: HoursRange(0, time(9, tzinfo=UTC), time(17)), "naive"),
        (lambda: HoursRange(0, time(9), time(17, tzinfo=RIYADH)), "naive"),
        (lambda: salon("09:00-17:00", step=0), "slot_step_minutes"),
        (lambda: salon("09:00-17:00", notice=-1), "min_notice_minutes"),
        (lambda: salon("09:00-17:00", horizon=-1), "horizon_days"),
        (lambda: member("09:00-17:00", duration=0), "service_duration"),
        (lambda: member("09:00-17:00", duration=-30), "service_duration"),
    ],
)
def test_inputs_that_make_no_schedule_are_refused(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_the_edges_of_each_input_are_accepted() -> None:
    assert [HoursRange(day, time(0), time(23, 59)).weekday for day in (0, 6)] == [0, 6]
    rules = salon("09:00-17:00", step=1, notice=0, horizon=0)
    assert (rules.slot_step_minutes, rules.min_notice_minutes, rules.horizon_days) == (1, 0, 0)
    assert member("09:00-17:00", duration=1).service_duration == timedelta(minutes=1)
