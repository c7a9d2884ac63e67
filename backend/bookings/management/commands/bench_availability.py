"""Benchmark of the availability read path: SQL queries and median wall time of `availability_for`
(loading + engine), then with the response body built, for a small and a busy salon, and the busy one
again with special hours (a night-range span for the salon and one for each staff member) present.

It creates its salons, staff and bookings in the database it is pointed at, inside a transaction that it
rolls back, so it leaves nothing behind. Not a test: the figures depend on the machine."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from statistics import median
from time import perf_counter

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.accounts.models import User
from backend.bookings.availability_body import availability_json
from backend.bookings.models import Booking, BookingItem, BookingStatus
from backend.bookings.selectors import availability_for
from backend.salons import services
from backend.salons.models import Salon, Service
from backend.salons.services import WeekRange
from backend.salons.special_hours import special_hours_create

BENCH_CUSTOMER_PHONE = "+966500009999"
BOOKING_WALL_TIMES = (time(10), time(11, 30), time(16), time(18))


def _salon_with_staff(*, staff_count: int) -> tuple[Salon, Service]:
    salon = services.salon_create(name="Benchmark salon", city="Riyadh", manager_phone=BENCH_CUSTOMER_PHONE)
    services.salon_update(salon=salon, data={"slot_step_minutes": 15, "min_notice_minutes": 0})
    week = [
        WeekRange(day, start, end)
        for day in range(7)
        for start, end in ((time(10), time(13)), (time(16), time(23)))
    ]
    services.business_hours_replace(salon=salon, ranges=week)
    service = services.service_create(
        salon=salon, name="Haircut", duration_minutes=30, price_halalas=5000, buffer_minutes=10
    )
    for number in range(staff_count):
        staff = services.staff_create(salon=salon, name=f"Staff {number}", service_ids=[service.id])
        services.working_hours_replace(staff=staff, ranges=week)
    return salon, service


def _add_special_hours(*, salon: Salon, date_from: date, days: int) -> None:
    """A span over the dates, for the salon and each staff member: 10:00-13:00 and a night 21:00-03:00."""
    week = [
        WeekRange(day, start, end)
        for day in range(7)
        for start, end in ((time(10), time(13)), (time(21), time(3)))
    ]
    last = date_from + timedelta(days=days - 1)
    special_hours_create(salon=salon, start_date=date_from, end_date=last, hours=week)
    for staff in salon.staff.all():
        special_hours_create(salon=salon, staff=staff, start_date=date_from, end_date=last, hours=week)


def _book(*, salon: Salon, service: Service, date_from: date, days: int, count: int) -> None:
    """`count` confirmed bookings spread over the staff members and days, on the grid, not overlapping."""
    staff_ids = list(salon.staff.values_list("id", flat=True))
    starts = []
    for index in range(count):
        day = date_from + timedelta(days=(index // len(staff_ids)) % days)
        wall = BOOKING_WALL_TIMES[index // (len(staff_ids) * days)]
        starts.append((staff_ids[index % len(staff_ids)], datetime.combine(day, wall, tzinfo=salon.tz)))
    confirmed_bookings(salon=salon, service=service, starts=starts)


def confirmed_bookings(
    *, salon: Salon, service: Service, starts: list[tuple[int, datetime]]
) -> list[Booking]:
    """Confirmed, unpaid bookings of the benchmark customer, one a (staff id, start), inserted at once
    (also `make bench`'s P9 checkouts)."""
    customer = User.objects.get(phone_number=BENCH_CUSTOMER_PHONE)
    length = timedelta(minutes=service.duration_minutes)
    bookings = Booking.objects.bulk_create(
        Booking(
            salon=salon,
            service=service,
            staff_id=staff_id,
            customer=customer,
            start=start,
            end=start + length,
            occupied_until=start + length + service.buffer,
            status=BookingStatus.CONFIRMED,
            price_halalas=service.price_halalas,
        )
        for staff_id, start in starts
    )
    BookingItem.objects.bulk_create(
        BookingItem(
            booking=booking,
            position=0,
            service=service,
            staff_id=booking.staff_id,
            start=booking.start,
            end=booking.end,
            occupied_until=booking.occupied_until,
            price_halalas=booking.price_halalas,
        )
        for booking in bookings
    )
    return bookings


class Command(BaseCommand):
    help = (
        "Prints SQL queries and median times of availability for 1 staff x 1 day and 20 staff x 7 days, "
        "the latter also with special hours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=30, help="timed runs per scenario (default 30)")

    def handle(self, *args: object, runs: int, **options: object) -> None:
        date_from = timezone.localdate() + timedelta(days=7)
        with transaction.atomic():
            small = _salon_with_staff(staff_count=1)
            busy = _salon_with_staff(staff_count=20)
            _book(salon=busy[0], service=busy[1], date_from=date_from, days=7, count=500)
            rows = [
                self._measure("1 staff x 1 day", *small, date_from=date_from, days=1, runs=runs),
                self._measure(
                    "20 staff x 7 days, 500 bookings", *busy, date_from=date_from, days=7, runs=runs
                ),
            ]
            _add_special_hours(salon=busy[0], date_from=date_from, days=7)
            rows.append(
                self._measure("the same with special hours", *busy, date_from=date_from, days=7, runs=runs)
            )
            transaction.set_rollback(True)
        self._print(rows)

    def _measure(
        self, label: str, salon: Salon, service: Service, *, date_from: date, days: int, runs: int
    ) -> dict[str, object]:
        def load_and_compute() -> list:
            return availability_for(salon=salon, service=service, date_from=date_from, days=days)

        def with_serialization() -> object:
            return availability_json(salon=salon, slots=load_and_compute())

        with CaptureQueriesContext(connection) as queries:
            slots = load_and_compute()
        return {
            "scenario": label,
            "slots": len(slots),
            "queries": len(queries),
            "engine_ms": _median_ms(load_and_compute, runs),
            "api_ms": _median_ms(with_serialization, runs),
        }

    def _print(self, rows: list[dict[str, object]]) -> None:
        header = f"{'scenario':<34} {'slots':>6} {'SQL queries':>12} {'median ms':>10} {'+ body ms':>10}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in rows:
            self.stdout.write(
                f"{row['scenario']:<34} {row['slots']:>6} {row['queries']:>12} "
                f"{row['engine_ms']:>10.1f} {row['api_ms']:>10.1f}"
            )
        small, busy, special = rows
        self.stdout.write(
            f"ratio (busy / small): queries {busy['queries'] / small['queries']:.2f}, "
            f"time {busy['engine_ms'] / small['engine_ms']:.1f}x, "
            f"with the body {busy['api_ms'] / small['api_ms']:.1f}x"
        )
        self.stdout.write(
            f"with special hours / without: queries {special['queries'] / busy['queries']:.2f}, "
            f"time {special['engine_ms'] / busy['engine_ms']:.1f}x"
        )
        self.stdout.write("(the API adds 1 query to these: the service with its salon)")


def _median_ms(function: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = perf_counter()
        function()
        timings.append((perf_counter() - started) * 1000)
    return median(timings)
