"""`make bench`'s visit rows (issue 22), measured in the bench's own process before the stack starts.

- V2, V3: availability of a 2- and a 3-item visit on P3's busy salon (20 staff x 7 days, 500 bookings),
  each ÷ the one-service answer on the same salon: SQL statements (the load stays one statement) and the
  median time of load + search.
- V4: create throughput of a 2-item visit ÷ a one-service booking, through the booking service (its
  locks, checks and inserts, committed one by one; no HTTP), rounds alternated A B B A on free starts of
  one lattice, so that both kinds see the same salon."""

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from statistics import median
from time import perf_counter
from typing import Any

VISIT_ROUNDS = ("A", "B", "B", "A")


def _median_ms(function: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = perf_counter()
        function()
        timings.append((perf_counter() - started) * 1000)
    return median(timings)


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

    from backend.bookings.management.commands.bench_availability import _book, _salon_with_staff
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


def create_visit_throughput(per_round: int) -> dict[str, Any]:
    """Creates per second, one service (A) and 2-item visits (B), each committed; left in the bench
    database (made afresh each run)."""
    from django.utils import timezone

    from backend.accounts.models import User
    from backend.bookings.management.commands.bench_availability import _salon_with_staff
    from backend.bookings.services.create import RequestedItem, visit_create

    salon, _ = _salon_with_staff(staff_count=20)
    _, cut, beard = _visit_services(salon)
    customers = iter(
        [User.objects.create_user(f"+96657{n:07d}") for n in range(len(VISIT_ROUNDS) * per_round)]
    )
    starts = _starts(salon, timezone.localdate() + timedelta(days=1))
    created: dict[str, int] = {"A": 0, "B": 0}
    seconds: dict[str, float] = {"A": 0.0, "B": 0.0}
    for kind in VISIT_ROUNDS:
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
