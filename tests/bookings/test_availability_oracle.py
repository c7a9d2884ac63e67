"""Properties of the availability engine against a brute-force, minute-by-minute oracle.

The oracle is written from the contract's words ("Salon weeks" in the API contract), not from the
engine: for every minute it asks whether the salon is open in a range of the date being listed, the staff
member working, not on time off, not busy; a start is offered where a free stretch begins plus whole
steps, if the service fits in working minutes, its occupation meets no booking, it is inside notice and
horizon, and its wall time is not the repeat of an hour the clocks went back over.

Scenarios are random weeks with night ranges, special-hours spans (salon and staff), single-day
closures, time off and bookings, around the days the clocks move in London, Cairo and Santiago."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.bookings.availability import (
    HoursRange,
    Interval,
    Rejection,
    SalonRules,
    SpecialHours,
    StaffSchedule,
    WeeklyHours,
    check_start,
    slots_for_any_staff,
)

MINUTE = timedelta(minutes=1)
GRID = 5  # every generated time is on a 5-minute grid; the oracle still looks at every minute
DAY = timedelta(days=1)
LONDON, CAIRO, SANTIAGO = ZoneInfo("Europe/London"), ZoneInfo("Africa/Cairo"), ZoneInfo("America/Santiago")
# Each zone with the days its clocks move in 2026 (forward, then back), and a plain day.
ZONE_DAYS = (
    (LONDON, date(2026, 3, 29)),
    (LONDON, date(2026, 10, 25)),
    (CAIRO, date(2026, 4, 24)),
    (CAIRO, date(2026, 10, 29)),
    (SANTIAGO, date(2026, 4, 4)),
    (SANTIAGO, date(2026, 9, 6)),
    (LONDON, date(2026, 6, 10)),
)
# Two ranges a day, the second ending at midnight: a staff member who always works.
ALWAYS = WeeklyHours(
    tuple(HoursRange(weekday, time(0), time(23, 55)) for weekday in range(7))
    + tuple(HoursRange(weekday, time(23, 55), time(0)) for weekday in range(7))
)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


def wall(local_date: date, wall_time: time, tz: ZoneInfo) -> datetime:
    """The contract's reading of a wall time: its first occurrence; in a gap, the offset before it."""
    return datetime.combine(local_date, wall_time, tzinfo=tz).astimezone(UTC)


@st.composite
def wall_times(draw: st.DrawFn) -> time:
    # Often near midnight and the small hours, where the clocks of these zones move.
    minutes = (
        draw(st.integers(0, 24 * 60 // GRID - 1) | st.integers(22 * 60 // GRID, 24 * 60 // GRID - 1)) * GRID
    )
    return time(minutes // 60, minutes % 60)


@st.composite
def weeks(draw: st.DrawFn) -> WeeklyHours:
    ranges = []
    for weekday in range(7):
        for _ in range(draw(st.sampled_from([0, 1, 1, 2]))):
            start, end = draw(wall_times()), draw(wall_times())
            if start != end:
                ranges.append(HoursRange(weekday, start, end))
    return WeeklyHours(tuple(ranges))


@st.composite
def spans(draw: st.DrawFn, around: date) -> tuple[SpecialHours, ...]:
    result: list[SpecialHours] = []
    next_free = around - timedelta(days=3)
    for _ in range(draw(st.integers(0, 2))):
        first = next_free + timedelta(days=draw(st.integers(0, 3)))
        last = first + timedelta(days=draw(st.integers(0, 3)))
        result.append(SpecialHours(first, last, draw(weeks())))
        next_free = last + DAY
    return tuple(result)


@st.composite
def intervals(draw: st.DrawFn, around: datetime, count: int, longest_minutes: int) -> tuple[Interval, ...]:
    result = []
    for _ in range(draw(st.integers(0, count))):
        start = around + timedelta(minutes=draw(st.integers(0, 5 * 24 * 60 // GRID)) * GRID)
        result.append(
            Interval(start, start + timedelta(minutes=draw(st.integers(1, longest_minutes // GRID)) * GRID))
        )
    return tuple(result)


@dataclass(frozen=True)
class Scenario:
    rules: SalonRules
    staff_members: tuple[StaffSchedule, ...]
    buffer: timedelta
    date_from: date
    days: int
    now: datetime

    def common(self) -> dict[str, Any]:
        return {"rules": self.rules, "buffer": self.buffer, "now": self.now}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    tz, zone_day = draw(st.sampled_from(ZONE_DAYS))
    date_from = zone_day + timedelta(days=draw(st.integers(-1, 0)))
    days = draw(st.integers(1, 3))
    around = datetime.combine(date_from - DAY, time(), tzinfo=UTC)
    nearby = [date_from + timedelta(days=offset) for offset in range(-2, days + 1)]
    rules = SalonRules(
        tz=tz,
        business_hours=draw(st.just(ALWAYS) | weeks()),
        closures=frozenset(draw(st.sets(st.sampled_from(nearby), max_size=2))),
        slot_step_minutes=draw(st.sampled_from([5, 15, 30, 45, 60])),
        min_notice_minutes=draw(st.integers(0, 24)) * GRID,
        horizon_days=draw(st.integers(1, 6)),
        special_hours=draw(spans(date_from)),
    )
    staff_members = tuple(
        StaffSchedule(
            staff_id=staff_id,
            working_hours=draw(st.just(ALWAYS) | weeks()),
            service_duration=timedelta(minutes=draw(st.integers(1, 36)) * GRID),
            time_off=draw(intervals(around, 2, 12 * 60)),
            busy=draw(intervals(around, 6, 4 * 60)),
            special_hours=draw(spans(date_from)),
        )
        for staff_id in draw(st.lists(st.integers(1, 50), min_size=1, max_size=2, unique=True))
    )
    return Scenario(
        rules=rules,
        staff_members=staff_members,
        buffer=timedelta(minutes=draw(st.integers(0, 6)) * GRID),
        date_from=date_from,
        days=days,
        now=around + timedelta(minutes=draw(st.integers(0, 24 * 60 // GRID)) * GRID),
    )


def ranges_of(
    local_date: date, weekly: WeeklyHours, special: tuple[SpecialHours, ...], tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The instants of the ranges starting on a date, straight from the contract's words."""
    week = next((span.hours for span in special if span.first_day <= local_date <= span.last_day), weekly)
    result = []
    for hours in week.ranges:
        if hours.weekday != local_date.weekday():
            continue
        start = wall(local_date, hours.start, tz)
        end = wall(local_date + DAY if hours.end <= hours.start else local_date, hours.end, tz)
        # A range starts on its own date (a date the zone skipped has none) and is not empty.
        if start < end and wall(local_date, time(), tz) <= start < wall(local_date + DAY, time(), tz):
            result.append((start, end))
    return result


def inside(instant: datetime, stretches: list[tuple[datetime, datetime]]) -> bool:
    return any(start <= instant < end for start, end in stretches)


class Oracle:
    """One staff member's offered starts on one local date, minute by minute."""

    def __init__(self, scenario: Scenario, staff: StaffSchedule, local_date: date) -> None:
        rules, tz = scenario.rules, scenario.rules.tz

        def business(day: date) -> list[tuple[datetime, datetime]]:
            return (
                [] if day in rules.closures else ranges_of(day, rules.business_hours, rules.special_hours, tz)
            )

        self.tz = tz
        self.own = business(local_date)
        self.earlier = business(local_date - DAY)  # the earlier date keeps what both ranges hold
        self.staff_hours = [
            stretch
            for offset in range(-2, 3)
            for stretch in ranges_of(local_date + offset * DAY, staff.working_hours, staff.special_hours, tz)
        ]
        self.time_off = [(off.start, off.end) for off in staff.time_off]
        self.bookings = [(booking.start, booking.end) for booking in staff.busy]
        self.duration = staff.service_duration
        self.occupation = staff.service_duration + scenario.buffer
        self.step = timedelta(minutes=rules.slot_step_minutes)
        self.earliest = scenario.now + timedelta(minutes=rules.min_notice_minutes)
        self.latest = scenario.now + timedelta(days=rules.horizon_days)
        self.first_minute = wall(local_date, time(), tz)
        self.last_minute = wall(local_date + 2 * DAY, time(), tz)

    def open_here(self, instant: datetime) -> bool:
        return inside(instant, self.own) and not inside(instant, self.earlier)

    def working(self, instant: datetime) -> bool:
        return (
            self.open_here(instant)
            and inside(instant, self.staff_hours)
            and not inside(instant, self.time_off)
        )

    def free(self, instant: datetime) -> bool:
        return self.working(instant) and not inside(instant, self.bookings)

    def rejection(self, start: datetime) -> Rejection | None:
        if start < self.earliest:
            return Rejection.TOO_SOON
        if start > self.latest:
            return Rejection.TOO_FAR_AHEAD
        if not all(self.working(start + k * MINUTE) for k in range(self.duration // MINUTE)):
            return Rejection.OUTSIDE_WORKING_HOURS
        if any(inside(start + k * MINUTE, self.bookings) for k in range(self.occupation // MINUTE)):
            return Rejection.SLOT_UNAVAILABLE
        return None

    def offered(self) -> set[datetime]:
        minutes = [
            self.first_minute + k * MINUTE for k in range((self.last_minute - self.first_minute) // MINUTE)
        ]
        free = [self.free(minute) for minute in minutes]
        result = set()
        for index in range(len(minutes)):
            if not free[index] or (index and free[index - 1]):
                continue  # not the start of a free stretch
            end = index
            while end < len(minutes) and free[end]:
                end += 1
            for candidate in minutes[index : end : self.step // MINUTE]:
                repeated = candidate.astimezone(self.tz).fold == 1  # the clocks went back over it
                if not repeated and self.rejection(candidate) is None:
                    result.add(candidate)
        return result


@PROPERTY_SETTINGS
@given(scenarios())
def test_the_engine_offers_exactly_the_oracles_starts(scenario: Scenario) -> None:
    expected = {
        (start, staff.staff_id)
        for staff in scenario.staff_members
        for offset in range(scenario.days)
        for start in Oracle(scenario, staff, scenario.date_from + offset * DAY).offered()
    }
    slots = slots_for_any_staff(
        staff_members=scenario.staff_members,
        date_from=scenario.date_from,
        days=scenario.days,
        **scenario.common(),
    )

    assert {(slot.start, slot.staff_id) for slot in slots} == expected
    assert len(slots) == len(expected)  # no start twice for one staff member
    durations = {staff.staff_id: staff.service_duration for staff in scenario.staff_members}
    assert all(slot.end - slot.start == durations[slot.staff_id] for slot in slots)


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_a_start_is_bookable_exactly_when_offered_and_the_reason_is_the_oracles(
    scenario: Scenario, data: st.DataObject
) -> None:
    for _ in range(8):
        start = datetime.combine(scenario.date_from, time(), tzinfo=UTC) + timedelta(
            minutes=data.draw(st.integers(-24 * 60, 4 * 24 * 60)) // GRID * GRID
        )
        local_date = start.astimezone(scenario.rules.tz).date()
        for staff in scenario.staff_members:
            day_before = Oracle(scenario, staff, local_date - DAY)
            owner = day_before if day_before.open_here(start) else Oracle(scenario, staff, local_date)
            reason = check_start(staff=staff, start=start, **scenario.common())

            assert (reason is None) == (start in owner.offered())
            if reason is not None:
                assert reason == (owner.rejection(start) or Rejection.NOT_ON_SLOT_GRID)
