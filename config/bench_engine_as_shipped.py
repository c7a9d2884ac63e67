"""The availability engine as shipped before issue 17, frozen here as the baseline of `make bench`'s P8
(config/bench_urls.py); production never imports it. Copied unchanged from backend/bookings/availability.py
at commit 7e14adc: do not edit it, except to follow a change of the loader's types it reads.
tests/salons/test_availability_body.py checks it offers the very slots the real engine offers.

The availability engine: when a service can be booked, and with whom.

Pure functions over schedules the caller has already loaded (no Django, no I/O). The slot list and
booking validation run the same code, so ``check_start(...) is None`` exactly when that start is one of
the slots ``slots_for_staff`` offers: the list never offers a slot that booking would reject.

Time model:
- Every instant is an aware datetime. Internally everything is UTC, because adding a timedelta to a
  datetime in a DST zone does wall-clock arithmetic, not real elapsed time. Slots come back in UTC;
  the API layer shows them in the salon's zone.
- Weekly hours are wall-clock times in the salon's zone, turned into instants per local date with
  ``fold=0`` and normalised through UTC. An ambiguous wall time (fall-back) is its first occurrence. A
  nonexistent one (inside the spring-forward gap) is read with the offset from before the gap, so it
  lands as far past the gap as it was into it: 02:30 on Berlin's spring-forward day is 03:30 CEST.
  A range that collapses to nothing that way is dropped.
- A local date owns the instants from its midnight to the next one. Ranges are clipped to that, so every
  slot belongs to the local date of its start, which is the one date ``check_start`` looks at (a date
  the zone skipped, like Samoa's 30 December 2011, owns no instants and has no slots).
- Horizon days are 24-hour days counted from now.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_DAYS = 31

# A half-open stretch [start, end) of UTC time. Plain tuples keep the inner loops cheap.
_Span = tuple[datetime, datetime]


class Rejection(StrEnum):
    """Why a start cannot be booked, in the order ``check_start`` tests them."""

    TOO_SOON = "too_soon"
    TOO_FAR_AHEAD = "too_far_ahead"
    OUTSIDE_WORKING_HOURS = "outside_working_hours"
    SLOT_UNAVAILABLE = "slot_unavailable"
    NOT_ON_SLOT_GRID = "not_on_slot_grid"


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open stretch [start, end) of absolute time between two aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "Interval.start")
        _require_aware(self.end, "Interval.end")
        if self.end <= self.start:
            raise ValueError(f"Interval must end after it starts: {self.start} .. {self.end}")


@dataclass(frozen=True, slots=True)
class HoursRange:
    """One wall-clock range on one weekday (0 = Monday, as ``date.weekday()``), within that day."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Hours are wall-clock times in the salon's zone; pass naive times")
        if self.end <= self.start:
            raise ValueError(f"Hours must end after they start, on the same day: {self.start} .. {self.end}")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """A week of hours, several ranges a day allowed; a weekday without ranges is closed (or off)."""

    ranges: tuple[HoursRange, ...] = ()

    def ranges_on(self, weekday: int) -> list[HoursRange]:
        return [hours_range for hours_range in self.ranges if hours_range.weekday == weekday]


@dataclass(frozen=True, slots=True)
class SalonRules:
    """The salon-wide inputs: its zone, business hours, closed dates and booking settings."""

    tz: ZoneInfo
    business_hours: WeeklyHours
    closures: frozenset[date]
    slot_step_minutes: int
    min_notice_minutes: int
    horizon_days: int

    def __post_init__(self) -> None:
        if self.slot_step_minutes <= 0:
            raise ValueError(f"slot_step_minutes must be positive, got {self.slot_step_minutes}")
        if self.min_notice_minutes < 0:
            raise ValueError(f"min_notice_minutes must not be negative, got {self.min_notice_minutes}")
        if self.horizon_days < 0:
            raise ValueError(f"horizon_days must not be negative, got {self.horizon_days}")


@dataclass(frozen=True, slots=True)
class StaffSchedule:
    """One staff member as the engine sees them for one service.

    ``service_duration`` is the service's duration for this staff member (overrides already applied).
    ``busy`` holds the active bookings, each already widened by its own buffer: [start, end + buffer).
    """

    staff_id: int
    working_hours: WeeklyHours
    service_duration: timedelta
    time_off: tuple[Interval, ...] = ()
    busy: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        if self.service_duration <= timedelta(0):
            raise ValueError(f"service_duration must be positive, got {self.service_duration}")


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start: the service runs [start, end) with that staff member; both in UTC."""

    start: datetime
    end: datetime
    staff_id: int


def slots_for_staff(
    *, rules: SalonRules, staff: StaffSchedule, buffer: timedelta, date_from: date, days: int, now: datetime
) -> list[Slot]:
    """The slots of one staff member on the local dates date_from .. date_from + days - 1, by start."""
    return slots_for_any_staff(
        rules=rules, staff_members=[staff], buffer=buffer, date_from=date_from, days=days, now=now
    )


def slots_for_any_staff(
    *,
    rules: SalonRules,
    staff_members: Sequence[StaffSchedule],
    buffer: timedelta,
    date_from: date,
    days: int,
    now: datetime,
) -> list[Slot]:
    """The union of each staff member's slots, sorted by (start, staff_id)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 .. {MAX_DAYS}, got {days}")
    local_dates = [date_from + timedelta(days=offset) for offset in range(days)]
    slots = [
        slot
        for staff in staff_members
        for slot in _StaffAvailability(rules=rules, staff=staff, buffer=buffer, now=now).slots(local_dates)
    ]
    slots.sort(key=lambda slot: (slot.start, slot.staff_id))
    return slots


def check_start(
    *, rules: SalonRules, staff: StaffSchedule, buffer: timedelta, start: datetime, now: datetime
) -> Rejection | None:
    """None if ``start`` is one of the slots offered for this staff member, else the first rule it breaks.

    Rules are reported in this order: too_soon, too_far_ahead, outside_working_hours, slot_unavailable,
    and not_on_slot_grid for a start that breaks none of them but is not a grid start.
    """
    start = _as_utc(start, "start")
    availability = _StaffAvailability(rules=rules, staff=staff, buffer=buffer, now=now)
    # The rules on time alone first (no offered start breaks them, so the answer is the same): the local
    # day of a start centuries away may not be computable at all (year 1 east of UTC begins before
    # datetime.min).
    if start < availability.earliest_start:
        return Rejection.TOO_SOON
    if start > availability.latest_start:
        return Rejection.TOO_FAR_AHEAD
    working = availability.working_set(start.astimezone(rules.tz).date())
    # Membership in the very list the slot endpoint serves is what makes list and booking agree.
    if start in availability.offered_starts(working):
        return None
    return availability.rejection(start, working) or Rejection.NOT_ON_SLOT_GRID


def bookable_staff_ids(
    *,
    rules: SalonRules,
    staff_members: Sequence[StaffSchedule],
    buffer: timedelta,
    start: datetime,
    now: datetime,
) -> list[int]:
    """The ids of the staff members (in the order given) for whom ``start`` is an offered slot."""
    return [
        staff.staff_id
        for staff in staff_members
        if check_start(rules=rules, staff=staff, buffer=buffer, start=start, now=now) is None
    ]


class _StaffAvailability:
    """One staff member's schedule prepared for one request: merged, sorted and ready for bisect."""

    def __init__(self, *, rules: SalonRules, staff: StaffSchedule, buffer: timedelta, now: datetime) -> None:
        if buffer < timedelta(0):
            raise ValueError(f"buffer must not be negative, got {buffer}")
        now = _as_utc(now, "now")
        self._rules = rules
        self._staff = staff
        self._occupation = staff.service_duration + buffer
        self._step = timedelta(minutes=rules.slot_step_minutes)
        self.earliest_start = now + timedelta(minutes=rules.min_notice_minutes)
        self.latest_start = now + timedelta(days=rules.horizon_days)
        self._time_off = _DisjointSpans(_utc_span(interval) for interval in staff.time_off)
        self._busy = _DisjointSpans(_utc_span(interval) for interval in staff.busy)

    def slots(self, local_dates: Iterable[date]) -> Iterator[Slot]:
        for local_date in local_dates:
            for start in self.offered_starts(self.working_set(local_date)):
                yield Slot(
                    start=start, end=start + self._staff.service_duration, staff_id=self._staff.staff_id
                )

    def working_set(self, local_date: date) -> "_DisjointSpans":
        """Staff hours ∩ business hours on that date, minus time off; nothing on a closure date."""
        if local_date in self._rules.closures:
            return _DisjointSpans(())
        tz = self._rules.tz
        whole_day = (
            _wall_to_utc(local_date, time.min, tz),
            _wall_to_utc(local_date + timedelta(days=1), time.min, tz),
        )
        hours = _intersect(
            _intersect(
                _hours_on(local_date, self._rules.business_hours, tz),
                _hours_on(local_date, self._staff.working_hours, tz),
            ),
            [whole_day],
        )
        return _DisjointSpans(_subtract(hours, self._time_off.overlapping(*whole_day)))

    def offered_starts(self, working: "_DisjointSpans") -> list[datetime]:
        """Grid starts that pass every rule; the grid restarts at the start of each free range."""
        if not working.spans:
            return []
        busy_that_day = self._busy.overlapping(working.spans[0][0], working.spans[-1][1])
        starts = []
        for free_start, free_end in _subtract(working.spans, busy_that_day):
            candidate = free_start
            while candidate < free_end:
                if self.rejection(candidate, working) is None:
                    starts.append(candidate)
                candidate += self._step
        return starts

    def rejection(self, start: datetime, working: "_DisjointSpans") -> Rejection | None:
        """The first rule ``start`` breaks, grid aside, or None; ``working`` is its date's working set."""
        if start < self.earliest_start:
            return Rejection.TOO_SOON
        if start > self.latest_start:
            return Rejection.TOO_FAR_AHEAD
        if not working.covers(start, start + self._staff.service_duration):
            return Rejection.OUTSIDE_WORKING_HOURS
        # The whole occupation counts here: the buffer may run past closing, not into another booking.
        if self._busy.overlaps(start, start + self._occupation):
            return Rejection.SLOT_UNAVAILABLE
        return None


class _DisjointSpans:
    """Sorted, disjoint, non-touching spans, with their starts and ends kept apart for bisect."""

    __slots__ = ("_ends", "_starts", "spans")

    def __init__(self, spans: Iterable[_Span]) -> None:
        self.spans = _merge(spans)
        self._starts = [start for start, _ in self.spans]
        self._ends = [end for _, end in self.spans]

    def overlapping(self, start: datetime, end: datetime) -> list[_Span]:
        """The spans that overlap [start, end)."""
        return self.spans[bisect_right(self._ends, start) : bisect_left(self._starts, end)]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        first_ending_after_start = bisect_right(self._ends, start)
        return first_ending_after_start < len(self.spans) and self._starts[first_ending_after_start] < end

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies inside one span (touching spans are merged, so inside the union)."""
        last_starting_by_start = bisect_right(self._starts, start) - 1
        return last_starting_by_start >= 0 and self._ends[last_starting_by_start] >= end


def _merge(spans: Iterable[_Span]) -> list[_Span]:
    """Sorts spans and unites those that overlap or touch."""
    merged: list[_Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(first: list[_Span], second: list[_Span]) -> list[_Span]:
    """The intersection of two sorted, disjoint span lists, in one linear pass."""
    result: list[_Span] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def _subtract(spans: list[_Span], holes: list[_Span]) -> list[_Span]:
    """``spans`` minus ``holes``, both sorted and disjoint, in one linear pass."""
    result: list[_Span] = []
    first_relevant_hole = 0
    for start, end in spans:
        while first_relevant_hole < len(holes) and holes[first_relevant_hole][1] <= start:
            first_relevant_hole += 1
        # A hole can reach into the next span too, so scan from first_relevant_hole without consuming it.
        hole = first_relevant_hole
        while hole < len(holes) and holes[hole][0] < end:
            if holes[hole][0] > start:
                result.append((start, holes[hole][0]))
            start = max(start, holes[hole][1])
            hole += 1
        if start < end:
            result.append((start, end))
    return result


def _hours_on(local_date: date, hours: WeeklyHours, tz: ZoneInfo) -> list[_Span]:
    spans = []
    for hours_range in hours.ranges_on(local_date.weekday()):
        start = _wall_to_utc(local_date, hours_range.start, tz)
        end = _wall_to_utc(local_date, hours_range.end, tz)
        if start < end:  # A range lying in a spring-forward gap collapses (see the module docstring).
            spans.append((start, end))
    return _merge(spans)


def _wall_to_utc(local_date: date, wall_time: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(local_date, wall_time.replace(fold=0), tzinfo=tz).astimezone(UTC)


def _utc_span(interval: Interval) -> _Span:
    return interval.start.astimezone(UTC), interval.end.astimezone(UTC)


def _as_utc(moment: datetime, name: str) -> datetime:
    _require_aware(moment, name)
    return moment.astimezone(UTC)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
