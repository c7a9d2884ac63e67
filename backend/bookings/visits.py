"""Visits: when a sequence of services can be booked back to back, and with whom. Pure, like the engine.

A visit's first item starts on an offered start of its staff member (the one-service engine decides it,
grid and all); item k+1 starts when item k's service and processing time are over. Each later item needs
a staff member who performs it, works then (the service inside the working hours of its date) and is
free for its occupation (its duration plus buffer), this visit's own earlier occupations included. The
processing time occupies the client only, so another customer may book the staff member meanwhile.

The slot list (`visit_slots`) and the create check (`visit_options`) run the same search, so a start is
listed exactly when the create would find staff for every item. The search tries each item's
candidates in the order given and keeps the first complete choice; what failed at an (item, start,
occupations still running) state is remembered, so a week of 20 staff members stays a linear walk.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from backend.bookings.availability import (
    MAX_DAYS,
    Rejection,
    SalonRules,
    StaffSchedule,
    _as_utc,
    _SalonDays,
    _StaffAvailability,
)

__all__ = [
    "MAX_ITEMS",
    "VisitItem",
    "VisitRefusal",
    "VisitSlot",
    "VisitStep",
    "most_telling",
    "visit_options",
]

MAX_ITEMS = 5


@dataclass(frozen=True, slots=True)
class VisitStep:
    """One service of the sequence: its candidates (each staff member's schedule for it, in the order to
    try them), its buffer and its processing time."""

    staff: tuple[StaffSchedule, ...]
    buffer: timedelta
    processing: timedelta = timedelta(0)


class VisitItem(NamedTuple):
    staff_id: int
    start: datetime
    end: datetime


class VisitSlot(NamedTuple):
    """A bookable visit start: the first item's staff member, the first start and last end, every item."""

    start: datetime
    end: datetime
    staff_id: int
    items: tuple[VisitItem, ...]


@dataclass(frozen=True, slots=True)
class VisitRefusal:
    """Why no visit starts then: the index of the item nobody could take, and the most telling reason."""

    item: int
    reason: Rejection


def most_telling(reasons: Sequence[Rejection]) -> Rejection:
    """Why nobody can take a start: a clash if anyone works then but is busy, else the first rule broken."""
    if Rejection.SLOT_UNAVAILABLE in reasons:
        return Rejection.SLOT_UNAVAILABLE
    return min(reasons, key=list(Rejection).index)


# (staff id, occupation start, occupation end) of the items chosen so far
_Taken = tuple[tuple[int, datetime, datetime], ...]


class _Search:
    """The steps prepared for one request: each candidate's schedule merged once, shared by every start."""

    def __init__(self, *, rules: SalonRules, steps: Sequence[VisitStep], now: datetime) -> None:
        if not 1 <= len(steps) <= MAX_ITEMS:
            raise ValueError(f"a visit has 1 .. {MAX_ITEMS} items, got {len(steps)}")
        salon_days = _SalonDays(rules)
        # A staff member's busy times are shared by the steps: prepared per step, because durations and
        # buffers are the step's.
        self.steps = steps
        self.candidates = [
            [
                _StaffAvailability(
                    rules=rules, staff=staff, buffer=step.buffer, now=now, salon_days=salon_days
                )
                for staff in step.staff
            ]
            for step in steps
        ]
        self._failed: set[tuple[int, datetime, _Taken]] = set()
        self.failures: dict[int, list[Rejection]] = {}

    def first(self, availability: _StaffAvailability, start: datetime) -> VisitSlot | None:
        """The visit whose first item is this offered start of this staff member, if the rest fits."""
        end = start + availability.duration
        step = self.steps[0]
        taken = ((availability.staff_id, start, end + step.buffer),)
        rest = self.rest(1, end + step.processing, taken)
        if rest is None:
            return None
        items = (VisitItem(availability.staff_id, start, end), *rest)
        return VisitSlot(start, items[-1].end, availability.staff_id, items)

    def rest(self, index: int, start: datetime, taken: _Taken) -> tuple[VisitItem, ...] | None:
        """Items index.. from `start`, given the occupations taken so far; None if no choice fits."""
        if index == len(self.steps):
            return ()
        running = tuple(occupation for occupation in taken if occupation[2] > start)
        key = (index, start, running)
        if key in self._failed:
            return None
        step = self.steps[index]
        reasons = []
        for availability in self.candidates[index]:
            staff_id = availability.staff_id
            end = start + availability.duration
            reason = availability.later_item_rejection(start)
            if reason is None and any(
                taken_by == staff_id and taken_start < end + step.buffer and start < taken_end
                for taken_by, taken_start, taken_end in running
            ):
                reason = Rejection.SLOT_UNAVAILABLE  # this visit's own earlier item of theirs
            if reason is not None:
                reasons.append(reason)
                continue
            rest = self.rest(
                index + 1, end + step.processing, (*running, (staff_id, start, end + step.buffer))
            )
            if rest is not None:
                return (VisitItem(staff_id, start, end), *rest)
        self.failures.setdefault(index, []).extend(reasons)
        self._failed.add(key)
        return None

    def refusal(self) -> VisitRefusal:
        item = max(self.failures, default=0)
        return VisitRefusal(item, most_telling(self.failures.get(item) or [Rejection.SLOT_UNAVAILABLE]))


def visit_slots(
    *, rules: SalonRules, steps: Sequence[VisitStep], date_from: date, days: int, now: datetime
) -> list[VisitSlot]:
    """Every bookable visit start on the local dates date_from .. date_from + days - 1: one per first
    item's staff member (the others the first that fit, in the order given), sorted by (start, staff_id)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 .. {MAX_DAYS}, got {days}")
    search = _Search(rules=rules, steps=steps, now=_as_utc(now, "now"))
    local_dates = [date_from + timedelta(days=offset) for offset in range(days)]
    slots = [
        slot
        for availability in search.candidates[0]
        for local_date in local_dates
        for start in availability.offered_starts(availability.working_set(local_date))
        if (slot := search.first(availability, start)) is not None
    ]
    slots.sort(key=lambda slot: (slot.start, slot.staff_id))
    return slots


def visit_options(
    *, rules: SalonRules, steps: Sequence[VisitStep], start: datetime, now: datetime
) -> list[VisitSlot] | VisitRefusal:
    """The visits that start at `start`: one per first item's staff member for whom it is an offered
    start and the rest fits, in the candidates' order; or why none (the failing item and reason)."""
    start = _as_utc(start, "start")
    search = _Search(rules=rules, steps=steps, now=_as_utc(now, "now"))
    options, first_reasons = [], []
    for availability in search.candidates[0]:
        reason = availability.check(start)
        if reason is not None:
            first_reasons.append(reason)
            continue
        slot = search.first(availability, start)
        if slot is not None:
            options.append(slot)
    if options:
        return options
    if search.failures:
        return search.refusal()
    return VisitRefusal(0, most_telling(first_reasons or [Rejection.SLOT_UNAVAILABLE]))
