"""`make bench`'s visit rows (issue 22), measured in the bench's own process before the stack starts.

- V2, V3: availability of a 2- and a 3-item visit on P3's busy salon (20 staff x 7 days, 500 bookings),
  each ÷ the one-service answer on the same salon: SQL statements (the load stays one statement) and the
  median time of load + search.
- V4: create throughput of a 2-item visit ÷ a one-service booking. The row is measured over HTTP
  through gunicorn (scripts/bench.py's `measure_v4`), on a salon of its own whose data is made here
  (`make_visit_scenario`): POST /bookings/ with an Idempotency-Key, a one-service body (A) and an `items`
  body (B), in ABBA rounds on free starts of one hourly lattice, so that both kinds see the same salon and
  every create is a 201 in any order; afterwards the salon's rows are checked (`visit_checks`). Its
  evidence line adds the same ratio through the booking service in this process (locks, checks and
  inserts committed one by one; no HTTP, no key), measured before the stack starts."""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import Any

VISIT_ROUNDS = ("A", "B", "B", "A")
VISIT_STAFF = 20
# Starts on the hour from each opening (bench_availability's 10:00-13:00 and 16:00-23:00): the 2-item
# visit occupies its staff member 60 minutes (cut 30, beard 20 and its 10 of buffer), the one service 30,
# both ending on the 15-minute slot grid at or before the next start, so every start of the lattice stays
# free and on the grid whichever others are booked first: every create is a 201, in any order.
LATTICE_MINUTES = 60
OPENINGS = (time(10), time(16))


def _visit_services(salon: Any) -> list[Any]:
    """Colour (30 min, 20 of processing), cut (30) and beard (20, 10 of buffer), performed by every staff
    member: the 3-item visit is all three, the 2-item visit cut then beard."""
    from backend.salons import services
    from backend.salons.models import StaffService

    made = [
        services.service_create(
            salon=salon, name="Colour", duration_minutes=30, price_halalas=9000, processing_minutes=20
        ),
        services.service_create(salon=salon, name="Cut", duration_minutes=30, price_halalas=5000),
        services.service_create(
            salon=salon, name="Beard", duration_minutes=20, price_halalas=3000, buffer_minutes=10
        ),
    ]
    StaffService.objects.bulk_create(
        StaffService(staff=staff, service=service) for staff in salon.staff.all() for service in made
    )
    return made


def availability_visit_rows(runs: int) -> list[dict[str, Any]]:
    """One service, then 2 and 3 items, on P3's busy salon; rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from backend.bookings.management.commands.bench_availability import _book, _median_ms, _salon_with_staff
    from backend.bookings.selectors import availability_for, visit_availability_for

    date_from = timezone.localdate() + timedelta(days=7)
    rows = []
    with transaction.atomic():
        salon, haircut = _salon_with_staff(staff_count=20)
        _book(salon=salon, service=haircut, date_from=date_from, days=7, count=500)
        colour, cut, beard = _visit_services(salon)
        scenarios = [
            ("one service", lambda: availability_for(salon=salon, service=cut, date_from=date_from, days=7)),
            (
                "2 items",
                lambda: visit_availability_for(
                    salon=salon, services=[cut, beard], date_from=date_from, days=7
                ),
            ),
            (
                "3 items",
                lambda: visit_availability_for(
                    salon=salon, services=[colour, cut, beard], date_from=date_from, days=7
                ),
            ),
        ]
        for label, function in scenarios:
            with CaptureQueriesContext(connection) as queries:
                slots = function()
            rows.append(
                {
                    "scenario": label,
                    "slots": len(slots),
                    "queries": len(queries),
                    "ms": _median_ms(function, runs),
                }
            )
        transaction.set_rollback(True)
    return rows


def _starts(salon: Any, first_day: date) -> Iterator[tuple[int, datetime]]:
    """(staff id, start): every staff member, every hour of the evening range (16:00-22:00), day after day.
    A 2-item visit (cut, beard and its buffer) takes an hour, a booking half of one: neither reaches the
    next start."""
    staff_ids = list(salon.staff.order_by("pk").values_list("pk", flat=True))
    day = first_day
    while True:
        for hour in range(16, 22):
            for staff_id in staff_ids:
                yield staff_id, datetime.combine(day, time(hour), tzinfo=salon.tz)
        day += timedelta(days=1)


def create_visit_throughput(per_round: int, repeats: int) -> dict[str, Any]:
    """Creates per second, one service (A) and 2-item visits (B), each committed, in `repeats` ABBAs of
    short rounds (the machine is shared); left in the bench database (made afresh each run)."""
    from django.utils import timezone

    from backend.accounts.models import User
    from backend.bookings.management.commands.bench_availability import _salon_with_staff
    from backend.bookings.services.create import RequestedItem, visit_create

    salon, _ = _salon_with_staff(staff_count=20)
    _, cut, beard = _visit_services(salon)
    rounds = VISIT_ROUNDS * repeats
    customers = iter([User.objects.create_user(f"+96657{n:07d}") for n in range(len(rounds) * per_round)])
    starts = _starts(salon, timezone.localdate() + timedelta(days=1))
    created: dict[str, int] = {"A": 0, "B": 0}
    seconds: dict[str, float] = {"A": 0.0, "B": 0.0}
    for kind in rounds:
        batch = [next(starts) for _ in range(per_round)]
        started = perf_counter()
        for staff_id, start in batch:
            items = [RequestedItem(cut, staff_id)]
            if kind == "B":
                items.append(RequestedItem(beard, staff_id))
            visit_create(customer=next(customers), salon=salon, items=items, start=start)
            created[kind] += 1
        seconds[kind] += perf_counter() - started
    return {kind: created[kind] / seconds[kind] for kind in ("A", "B")}


# --- V4 over HTTP: the data, the requests, the checks ---------------------------------------------------


@dataclass(frozen=True)
class LatticeStart:
    staff_id: int
    start: str  # ISO 8601 with the salon's offset, as a client sends it


def on_lattice(local: datetime) -> bool:
    """Whether a local start is on the hourly lattice of the opening it follows."""
    opening = max((o for o in OPENINGS if o <= local.time()), default=None)
    if opening is None:
        return False
    minutes = (local.hour - opening.hour) * 60 + local.minute - opening.minute
    return local.second == 0 and minutes % LATTICE_MINUTES == 0


def lattice_starts(offered: Iterable[tuple[int, datetime]], *, tz: Any) -> list[LatticeStart]:
    """The offered (first staff member, start) pairs on the lattice, in the order given (the engine's:
    by start, then staff id, so consecutive requests go to different staff members)."""
    starts = []
    for staff_id, start in offered:
        local = start.astimezone(tz)
        if on_lattice(local):
            starts.append(LatticeStart(staff_id, local.isoformat()))
    return starts


@dataclass
class VisitScenario:
    """V4's salon: `salon_id`, the cut (the one service, A) and the cut then beard (the visit, B), and the
    free lattice starts every request takes the next of; `in_process` the booking service's rates."""

    salon_id: int
    service_ids: tuple[int, int]  # cut, beard
    starts: Iterator[LatticeStart]
    in_process: Mapping[str, float] = field(default_factory=dict)

    def body(self, kind: str, start: LatticeStart) -> dict[str, Any]:
        """POST /bookings/'s body: one service (A), or both items with the same staff member (B)."""
        cut, beard = self.service_ids
        if kind == "A":
            return {"salon": self.salon_id, "service": cut, "staff": start.staff_id, "start": start.start}
        return {
            "salon": self.salon_id,
            "start": start.start,
            "items": [{"service": cut, "staff": start.staff_id}, {"service": beard, "staff": start.staff_id}],
        }


def make_visit_scenario(needed: int) -> VisitScenario:
    """A 20-staff salon (bench_availability's, with `_visit_services`) and `needed` free lattice starts
    from tomorrow, as the engine offers the 2-item visit (a start it offers with staff member X is free for
    X's both items: every staff member has the same hours, and nothing is booked yet)."""
    from django.db import transaction
    from django.utils import timezone

    from backend.bookings.management.commands.bench_availability import _salon_with_staff
    from backend.bookings.selectors import visit_availability_for

    with transaction.atomic():
        salon, _ = _salon_with_staff(staff_count=VISIT_STAFF)
        _, cut, beard = _visit_services(salon)
    per_day = VISIT_STAFF * 10  # 3 starts from 10:00, 7 from 16:00
    days = -(-needed // per_day) + 1
    if days > salon.horizon_days:
        raise ValueError(f"{needed} starts need {days} days, beyond the salon's horizon")
    offered = visit_availability_for(
        salon=salon, services=[cut, beard], date_from=timezone.localdate() + timedelta(days=1), days=days
    )
    starts = lattice_starts(((slot.staff_id, slot.start) for slot in offered), tz=salon.tz)
    if len(starts) < needed:
        raise ValueError(f"only {len(starts)} free lattice starts for {needed} creates")
    return VisitScenario(salon_id=salon.pk, service_ids=(cut.pk, beard.pk), starts=iter(starts[:needed]))


@dataclass(frozen=True)
class VisitChecks:
    """What V4's salon holds afterwards: its bookings by number of items, and overlapping pairs of one
    staff member's active occupations and of one customer's visits (both must be none)."""

    by_items: Mapping[int, int]
    staff_overlaps: int
    customer_overlaps: int

    def problems(self, created: Mapping[str, int], requested: Mapping[str, int]) -> list[str]:
        """Everything that is not as it should be: a request not answered 201, a stored booking that does
        not match the 201s (A: one item, B: two), an overlap."""
        found = [
            f"{kind}: {created[kind]} of {requested[kind]} created"
            for kind in ("A", "B")
            if created[kind] != requested[kind]
        ]
        expected = Counter({1: created["A"], 2: created["B"]})
        if Counter(self.by_items) != +expected:
            found.append(f"stored bookings by items {dict(self.by_items)}, expected {dict(+expected)}")
        if self.staff_overlaps:
            found.append(f"{self.staff_overlaps} overlapping pairs of a staff member's occupations")
        if self.customer_overlaps:
            found.append(f"{self.customer_overlaps} overlapping pairs of a customer's visits")
        return found


# Pairs of active occupations of one staff member that overlap, and pairs of one customer's active visits
# that overlap, in the salon: the exclusion constraint and the create's customer check must leave none.
_STAFF_OVERLAPS = """
    SELECT count(*) FROM bookings_bookingitem a
    JOIN bookings_bookingitem b ON a.staff_id = b.staff_id AND a.id < b.id
    JOIN bookings_booking visit ON visit.id = a.booking_id
    WHERE visit.salon_id = %s AND a.active AND b.active
      AND tstzrange(a.start, a.occupied_until) && tstzrange(b.start, b.occupied_until)
"""
_CUSTOMER_OVERLAPS = """
    SELECT count(*) FROM bookings_booking a
    JOIN bookings_booking b ON a.customer_id = b.customer_id AND a.salon_id = b.salon_id AND a.id < b.id
    WHERE a.salon_id = %s AND a.status = ANY(%s) AND b.status = ANY(%s)
      AND tstzrange(a.start, a.end) && tstzrange(b.start, b.end)
"""


def visit_checks(salon_id: int) -> VisitChecks:
    from django.db import connection
    from django.db.models import Count

    from backend.bookings.models import ACTIVE_STATUSES, Booking

    counts = (
        Booking.objects.filter(salon_id=salon_id)
        .annotate(items_count=Count("items"))
        .values_list("items_count", flat=True)
    )
    active = list(ACTIVE_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(_STAFF_OVERLAPS, [salon_id])
        (staff_overlaps,) = cursor.fetchone()
        cursor.execute(_CUSTOMER_OVERLAPS, [salon_id, active, active])
        (customer_overlaps,) = cursor.fetchone()
    return VisitChecks(Counter(counts), staff_overlaps, customer_overlaps)
