"""The availability engine: when a service can be booked, and with whom.

Pure functions over schedules the caller has already loaded (no Django, no I/O). The slot list and
booking validation run the same code, so ``check_start(...) is None`` exactly when that start is one of
the slots ``slots_for_staff`` offers: the list never offers a slot that booking would reject.

Time model:
- Every instant is an aware datetime. Internally everything is UTC, because adding a timedelta to a
  datetime in a DST zone does wall-clock arithmetic, not real elapsed time. Slots come back in UTC;
  the API layer shows them in the salon's zone.
- Weekly hours and special-hours spans become dated stretches of UTC time in ``weeks.py``: a range
  belongs to the local date it starts on and may run past midnight (Thursday 16:00-02:00).
- Every slot belongs to the date of the business range it starts in, the one date ``check_start``
  looks at. Where ranges of two dates overlap (a night range spilling into a span of other hours, a
  spring-forward gap) the earlier date keeps the overlap. A service runs to its range's end, not past.
- On a day the clocks go back, a wall time of the repeated hour names its first occurrence: starts in
  the second occurrence are not offered, so no wall-clock start is offered twice for one staff member
  (a booking running through the repeated hour still lasts its real duration).
- Horizon days are 24-hour days counted from now.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from operator import attrgetter, itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from backend.bookings.spans import DisjointSpans, intersect, merge, subtract
from backend.bookings.weeks import ONE_DAY, HoursRange, SpecialHours, WeeklyHours, dated_spans, ranges_on
from backend.bookings.weeks import Span as _Span

__all__ = [
    "MAX_DAYS",
    "HoursRange",
    "Interval",
    "Rejection",
    "SalonRules",
    "Slot",
    "SpecialHours",
    "StaffSchedule",
    "WeeklyHours",
    "bookable_staff_ids",
    "check_start",
    "slots_for_any_staff",
    "slots_for_staff",
]

MAX_DAYS = 31


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
class SalonRules:
    """The salon-wide inputs: its zone, business hours (weekly, and special-hours spans that replace them
    on their dates), closed dates and booking settings."""

    tz: ZoneInfo
    business_hours: WeeklyHours
    closures: frozenset[date]
    slot_step_minutes: int
    min_notice_minutes: int
    horizon_days: int
    special_hours: tuple[SpecialHours, ...] = ()

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
    ``special_hours`` replace ``working_hours`` on their dates.
    """

    staff_id: int
    working_hours: WeeklyHours
    service_duration: timedelta
    time_off: tuple[Interval, ...] = ()
    busy: tuple[Interval, ...] = ()
    special_hours: tuple[SpecialHours, ...] = ()

    def __post_init__(self) -> None:
        if self.service_duration <= timedelta(0):
            raise ValueError(f"service_duration must be positive, got {self.service_duration}")


class Slot(NamedTuple):
    """A bookable start: the service runs [start, end) with that staff member; both in UTC.

    Immutable like the other values here, but a named tuple: a week of 20 staff members is thousands of
    slots, and a frozen dataclass cost several times as much to create (issue 17)."""

    start: datetime
    end: datetime
    staff_id: int


_START = itemgetter(0)  # Slot.start
_STAFF_ID = attrgetter("staff_id")


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
    salon_days = _SalonDays(rules)  # shared by the staff members: the salon's part of each date, once
    # Staff members go in id order and the sort is stable, so slots with the same start stay in staff id
    # order: (start, staff id) order, for a quarter of what sorting on both costs (issue 17, P8).
    slots = [
        slot
        for staff in sorted(staff_members, key=_STAFF_ID)
        for slot in _StaffAvailability(
            rules=rules, staff=staff, buffer=buffer, now=now, salon_days=salon_days
        ).slots(local_dates)
    ]
    slots.sort(key=_START)
    return slots


def check_start(
    *, rules: SalonRules, staff: StaffSchedule, buffer: timedelta, start: datetime, now: datetime
) -> Rejection | None:
    """None if ``start`` is one of the slots offered for this staff member, else the first rule it breaks.

    Rules are reported in this order: too_soon, too_far_ahead, outside_working_hours, slot_unavailable,
    and not_on_slot_grid for a start that breaks none of them but is not a grid start.
    """
    return _StaffAvailability(rules=rules, staff=staff, buffer=buffer, now=now).check(_as_utc(start, "start"))


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


def salon_open_on(*, rules: SalonRules, local_date: date) -> bool:
    """Whether the salon has business hours that its local date owns (closures and special hours
    applied): a date with none can never have a slot, however the bookings move."""
    return bool(_SalonDays(rules).on(local_date))


class _SalonDays:
    """The salon's part of each local date, the same for every staff member: the business hours the date
    owns, in UTC; computed once a date. Also each date's staff ranges in UTC, once for all the staff
    members who keep the same hours (`hours_key`): turning wall times into instants was a sixth of a busy
    week's engine time, and a salon's staff mostly share a few weeks."""

    def __init__(self, rules: SalonRules) -> None:
        self._rules = rules
        self._ranges: dict[date, list[_Span]] = {}
        self._owned: dict[date, list[_Span]] = {}
        self._hours_keys: dict[tuple[frozenset[HoursRange], tuple[SpecialHours, ...]], int] = {}
        self.staff_days: dict[tuple[int, date], list[_Span]] = {}  # (hours key, date): its ranges in UTC

    def hours_key(self, staff: StaffSchedule) -> int:
        """The same number for staff members with the same weekly ranges (in any order: a date's spans
        come out sorted) and the same special hours."""
        hours = (frozenset(staff.working_hours.ranges), staff.special_hours)
        return self._hours_keys.setdefault(hours, len(self._hours_keys))

    def _ranges_of(self, local_date: date) -> list[_Span]:
        """The business hours of the ranges starting on that date; none on a closure date."""
        spans = self._ranges.get(local_date)
        if spans is None:
            rules = self._rules
            if local_date in rules.closures:
                spans = []
            else:
                ranges = ranges_on(local_date, rules.business_hours, rules.special_hours)
                spans = merge(dated_spans(local_date, ranges, rules.tz))
            self._ranges[local_date] = spans
        return spans

    def on(self, local_date: date) -> list[_Span]:
        """The business hours the date owns: its ranges, less what the day before's ranges already hold."""
        owned = self._owned.get(local_date)
        if owned is None:
            owned = self._owned[local_date] = subtract(
                self._ranges_of(local_date), self._ranges_of(local_date - ONE_DAY)
            )
        return owned

    def owns(self, local_date: date, instant: datetime) -> bool:
        return any(start <= instant < end for start, end in self.on(local_date))


class _StaffAvailability:
    """One staff member's schedule prepared for one request: merged, sorted and ready for bisect."""

    def __init__(
        self,
        *,
        rules: SalonRules,
        staff: StaffSchedule,
        buffer: timedelta,
        now: datetime,
        salon_days: _SalonDays | None = None,
    ) -> None:
        if buffer < timedelta(0):
            raise ValueError(f"buffer must not be negative, got {buffer}")
        now = _as_utc(now, "now")
        self._rules = rules
        self._salon_days = salon_days or _SalonDays(rules)
        self._staff = staff
        self._occupation = staff.service_duration + buffer
        self._step = timedelta(minutes=rules.slot_step_minutes)
        self.earliest_start = now + timedelta(minutes=rules.min_notice_minutes)
        self.latest_start = now + timedelta(days=rules.horizon_days)
        self._time_off = DisjointSpans(_utc_span(interval) for interval in staff.time_off)
        self._busy = DisjointSpans(_utc_span(interval) for interval in staff.busy)
        self._hours_key = self._salon_days.hours_key(staff)
        self._working_sets: dict[date, DisjointSpans] = {}

    @property
    def staff_id(self) -> int:
        return self._staff.staff_id

    @property
    def duration(self) -> timedelta:
        return self._staff.service_duration

    def check(self, start: datetime) -> Rejection | None:
        """``check_start`` for a UTC start: None if it is an offered start, else the first rule it breaks."""
        # The rules on time alone first (no offered start breaks them, so the answer is the same): the local
        # day of a start centuries away may not be computable at all (year 1 east of UTC begins before
        # datetime.min).
        if start < self.earliest_start:
            return Rejection.TOO_SOON
        if start > self.latest_start:
            return Rejection.TOO_FAR_AHEAD
        working = self.working_set(self.owning_date(start))
        # Membership in the very list the slot endpoint serves is what makes list and booking agree.
        if start in self.offered_starts(working):
            return None
        return self.rejection(start, working) or Rejection.NOT_ON_SLOT_GRID

    def later_item_rejection(self, start: datetime) -> Rejection | None:
        """For a visit's item after the first (its start set by the items before it, on no grid): whether
        the service fits the working hours of its date and its occupation no busy time."""
        local_date = self.owning_date(start)
        working = self._working_sets.get(local_date)
        if working is None:
            working = self._working_sets[local_date] = self.working_set(local_date)
        if not working.covers(start, start + self._staff.service_duration):
            return Rejection.OUTSIDE_WORKING_HOURS
        if self._busy.overlaps(start, start + self._occupation):
            return Rejection.SLOT_UNAVAILABLE
        return None

    def slots(self, local_dates: Iterable[date]) -> Iterator[Slot]:
        duration, staff_id = self._staff.service_duration, self._staff.staff_id
        # A Slot made as its `_make` makes one, without the named tuple's two Python-level calls a slot.
        make = tuple.__new__
        for local_date in local_dates:
            for start in self.offered_starts(self.working_set(local_date)):
                yield make(Slot, (start, start + duration, staff_id))

    def owning_date(self, start: datetime) -> date:
        """The date whose business range ``start`` falls in: its local date, or the day before when it
        is in the night range of that day."""
        local_date = start.astimezone(self._rules.tz).date()
        day_before = local_date - ONE_DAY
        return day_before if self._salon_days.owns(day_before, start) else local_date

    def working_set(self, local_date: date) -> DisjointSpans:
        """The business hours the date owns ∩ the staff member's hours around it, minus time off."""
        business_hours = self._salon_days.on(local_date)
        if not business_hours:
            return DisjointSpans(())
        # The date's ranges start on it and end by the next one's end: staff ranges of the day before
        # (spilling), of the date and of the next day may all meet them.
        staff_hours = merge(
            span for offset in (-1, 0, 1) for span in self._staff_ranges_of(local_date + offset * ONE_DAY)
        )
        hours = intersect(business_hours, staff_hours)
        if not hours:
            return DisjointSpans(())
        return DisjointSpans(subtract(hours, self._time_off.overlapping(hours[0][0], hours[-1][1])))

    def _staff_ranges_of(self, local_date: date) -> list[_Span]:
        key = (self._hours_key, local_date)
        spans = self._salon_days.staff_days.get(key)
        if spans is None:
            staff, tz = self._staff, self._rules.tz
            ranges = ranges_on(local_date, staff.working_hours, staff.special_hours)
            spans = self._salon_days.staff_days[key] = dated_spans(local_date, ranges, tz)
        return spans

    def offered_starts(self, working: DisjointSpans) -> list[datetime]:
        """Grid starts that pass every rule; the grid restarts at the start of each free range."""
        if not working.spans:
            return []
        busy_that_day = self._busy.overlapping(working.spans[0][0], working.spans[-1][1])
        tz = self._rules.tz
        # Only where the offset changed across the day can a start fall in a repeated hour. A start is a
        # repeat when the clocks went back less than a shift (at most hours) before it, so the offset is
        # taken from a day before the first span: a working set lying wholly inside the repeated hour
        # has one offset from its start to its end, and is still a repeat.
        day_before, last_end = working.spans[0][0] - ONE_DAY, working.spans[-1][1]
        clock_moves = day_before.astimezone(tz).utcoffset() != last_end.astimezone(tz).utcoffset()
        starts = []
        for free_start, free_end in subtract(working.spans, busy_that_day):
            candidate = free_start
            while candidate < free_end:
                if self.rejection(candidate, working) is None and not (
                    clock_moves and candidate.astimezone(tz).fold
                ):
                    starts.append(candidate)
                candidate += self._step
        return starts

    def rejection(self, start: datetime, working: DisjointSpans) -> Rejection | None:
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


def _utc_span(interval: Interval) -> _Span:
    return interval.start.astimezone(UTC), interval.end.astimezone(UTC)


def _as_utc(moment: datetime, name: str) -> datetime:
    _require_aware(moment, name)
    return moment.astimezone(UTC)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
