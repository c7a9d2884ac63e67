"""The visit search against a brute-force oracle.

The oracle is written from the contract's words ("Visits" in the API contract): item k+1 starts when
item k's service and processing time are over; every later item needs a staff member who performs it,
works every minute of it, is busy in no minute of its occupation (duration plus buffer), and whose
occupations within the visit never overlap. The first start is one the one-service engine offers (its
own oracle: test_availability_oracle.py). The oracle tries every assignment of staff to items.

Scenarios are random days: salon and staff hours, bookings, 1 to 3 services with per-staff durations,
buffers and processing times."""

from datetime import UTC, datetime, time, timedelta
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.bookings.availability import (
    HoursRange,
    Interval,
    Rejection,
    SalonRules,
    StaffSchedule,
    WeeklyHours,
    slots_for_staff,
)
from backend.bookings.visits import VisitRefusal, VisitStep, visit_options, visit_slots

DAY = datetime(2027, 2, 3, tzinfo=UTC)
NOW = DAY - timedelta(days=1)
MINUTE = timedelta(minutes=1)
STAFF_IDS = (1, 2, 3)


def week(start_hour: int, end_hour: int) -> WeeklyHours:
    return WeeklyHours(tuple(HoursRange(day, time(start_hour), time(end_hour)) for day in range(7)))


@st.composite
def scenarios(draw):
    open_hour, close_hour = draw(st.integers(6, 10)), draw(st.integers(14, 22))
    rules = SalonRules(
        tz=UTC,
        business_hours=week(open_hour, close_hour),
        closures=frozenset(),
        slot_step_minutes=draw(st.sampled_from([15, 30])),
        min_notice_minutes=0,
        horizon_days=30,
    )
    staff = {}
    for staff_id in STAFF_IDS[: draw(st.integers(1, 3))]:
        hours = (draw(st.integers(6, 12)), draw(st.integers(13, 23)))
        busy = []
        for _ in range(draw(st.integers(0, 4))):
            start = DAY + timedelta(minutes=5 * draw(st.integers(72, 250)))
            busy.append(Interval(start, start + timedelta(minutes=5 * draw(st.integers(1, 12)))))
        staff[staff_id] = (hours, tuple(busy))
    services = []
    for _ in range(draw(st.integers(1, 3))):
        performers = draw(st.lists(st.sampled_from(sorted(staff)), min_size=1, unique=True))
        durations = {staff_id: draw(st.sampled_from([15, 20, 30, 45])) for staff_id in sorted(performers)}
        services.append(
            (durations, draw(st.sampled_from([0, 5, 10])), draw(st.sampled_from([0, 10, 20, 40])))
        )
    return rules, staff, services


def steps_of(staff, services) -> list[VisitStep]:
    return [
        VisitStep(
            staff=tuple(
                StaffSchedule(
                    staff_id=staff_id,
                    working_hours=week(*staff[staff_id][0]),
                    service_duration=timedelta(minutes=minutes),
                    busy=staff[staff_id][1],
                )
                for staff_id, minutes in durations.items()
            ),
            buffer=timedelta(minutes=buffer),
            processing=timedelta(minutes=processing),
        )
        for durations, buffer, processing in services
    ]


def valid(rules, staff, services, start, assignment) -> bool:
    """The contract's rules for items after the first, minute by minute, and no overlap within the visit."""
    opening, closing = rules.business_hours.ranges[0].start.hour, rules.business_hours.ranges[0].end.hour
    occupations = []
    moment = start
    for index, (staff_id, (durations, buffer, processing)) in enumerate(
        zip(assignment, services, strict=True)
    ):
        if staff_id not in durations:
            return False
        duration, buffer = timedelta(minutes=durations[staff_id]), timedelta(minutes=buffer)
        (works_from, works_to), busy = staff[staff_id]
        if index:
            for minute in range(int(duration / MINUTE)):
                instant = moment + minute * MINUTE
                hour = (instant - DAY) / timedelta(hours=1)
                if not (max(opening, works_from) <= hour < min(closing, works_to)):
                    return False
            for minute in range(int((duration + buffer) / MINUTE)):
                instant = moment + minute * MINUTE
                if any(interval.start <= instant < interval.end for interval in busy):
                    return False
        occupations.append((staff_id, moment, moment + duration + buffer))
        moment += duration + timedelta(minutes=processing)
    return not any(
        first[0] == second[0] and first[1] < second[2] and second[1] < first[2]
        for index, first in enumerate(occupations)
        for second in occupations[index + 1 :]
    )


def oracle(rules, staff, services) -> set[tuple[datetime, int]]:
    _, first_buffer, _ = services[0]
    expected = set()
    for schedule in steps_of(staff, services)[0].staff:
        for slot in slots_for_staff(
            rules=rules,
            staff=schedule,
            buffer=timedelta(minutes=first_buffer),
            date_from=DAY.date(),
            days=1,
            now=NOW,
        ):
            rest = product(*[sorted(durations) for durations, _, _ in services[1:]])
            if any(valid(rules, staff, services, slot.start, (slot.staff_id, *others)) for others in rest):
                expected.add((slot.start, slot.staff_id))
    return expected


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_visit_slots_are_exactly_the_starts_some_assignment_allows(scenario):
    rules, staff, services = scenario
    steps = steps_of(staff, services)
    slots = visit_slots(rules=rules, steps=steps, date_from=DAY.date(), days=1, now=NOW)
    assert {(slot.start, slot.staff_id) for slot in slots} == oracle(rules, staff, services)
    for slot in slots:
        assert slot.items[0].staff_id == slot.staff_id and slot.end == slot.items[-1].end
        assert valid(rules, staff, services, slot.start, [item.staff_id for item in slot.items])
    # The create check is the same search: a start it allows is one the list offers, with the same staff.
    for minutes in range(6 * 60, 23 * 60, 15):
        start = DAY + timedelta(minutes=minutes)
        options = visit_options(rules=rules, steps=steps, start=start, now=NOW)
        listed = [slot for slot in slots if slot.start == start]
        if isinstance(options, VisitRefusal):
            assert not listed and 0 <= options.item < len(services)
        else:
            assert options == listed


def test_a_visit_has_one_to_five_items_and_lists_one_to_31_days():
    rules, staff, services = (
        SalonRules(
            tz=UTC,
            business_hours=week(9, 17),
            closures=frozenset(),
            slot_step_minutes=30,
            min_notice_minutes=0,
            horizon_days=30,
        ),
        {1: ((9, 17), ())},
        [({1: 30}, 0, 0)],
    )
    step = steps_of(staff, services)[0]
    with pytest.raises(ValueError, match=r"1 \.\. 5 items"):
        visit_options(rules=rules, steps=[step] * 6, start=DAY, now=NOW)
    with pytest.raises(ValueError, match="days must be"):
        visit_slots(rules=rules, steps=[step], date_from=DAY.date(), days=32, now=NOW)
    # Nobody performs the second service: refused at item 1, as a clash.
    refusal = visit_options(
        rules=rules,
        steps=[step, VisitStep(staff=(), buffer=timedelta(0))],
        start=DAY + timedelta(hours=9),
        now=NOW,
    )
    assert refusal == VisitRefusal(1, Rejection.SLOT_UNAVAILABLE)
    assert visit_options(rules=rules, steps=[step], start=DAY, now=NOW) == VisitRefusal(
        0, Rejection.OUTSIDE_WORKING_HOURS
    )
