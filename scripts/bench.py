"""`make bench`: the performance figures of issues 5, 7, 10, 17 and 21, measured side by side in one run.

It brings up the production stack on loopback, against PostgreSQL and Redis but never the dev or test
data: a database `<DATABASE_URL's name>_bench` (dropped and re-created at each start, left in place
afterwards for inspection) and Redis database BENCH_REDIS_DB (default 8) of REDIS_URL's server, where it
only purges its own queues. Then:

- the fake Unifonic in this process, as the SMS provider, with a latency the run changes as it goes;
- gunicorn serving the real `config.wsgi` (production settings, except DEBUG off, plain HTTP, throttle
  rates too high to bite, and DJANGO_SETTINGS_MODULE=config.bench_settings, whose URLconf adds the
  baseline views);
- the `notifications` worker (threads pool) and the `default` worker (prefork, with the `einvoicing`
  queue), as in the Procfile;
- for P10 and P11, the fake ZATCA Fatoora in this process, which one salon's unit is onboarded with.

It prints one table (P1..P11), with a line of evidence (CPU per request or task, read from /proc) under
it for the figures that depend on the machine, and exits 0 whatever the figures; it exits 1 only when
the harness itself fails (a process does not start, a deadline passes), and 130 when interrupted.

The machine is shared and noisy, so every figure is a ratio of two things measured together, and paired
measurements alternate in short rounds, ABBA repeated (A, B, B, A, A, B, B, A...), which cancels drift (a
warming cache, a growing table, someone else's test run) out of the ratio. P2, P5 and V4 compare web
requests only: the notifications worker stops consuming meanwhile, so that its deliveries of the bookings'
messages do not take the small machine's CPU from gunicorn during the booking rounds only.

    python scripts/devservices.py bench [--scale 0.5]   # or `make bench`; see docs/performance.md
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import bench_visits
import requests
from bench_waitlist import WaitlistPlan, measure_waitlist
from harness import (
    ROOT,
    Child,
    CpuMeter,
    HarnessError,
    Stores,
    celery_worker,
    child_pids,
    clear_queues,
    gunicorn,
    listening_socket,
    machine_summary,
    migrate_fresh,
    percentile,
    render_table,
    run_to_exit_code,
    stack_env,
    stores_from_env,
    versions,
    wait_for,
    wait_stack_ready,
)

LOG_DIR = ROOT / ".dev" / "bench"
DEFAULT_REDIS_DB = 8
ABBA = ("A", "B", "B", "A")
BOOKINGS_PATH = "/api/v1/bookings/"
BASELINE_PATH = "/bench/insert-one/"  # config/bench_urls.py
AVAILABILITY_PATH = "/api/v1/salons/{salon_id}/availability/"
AVAILABILITY_AS_SHIPPED_PATH = "/bench/salons/{salon_id}/availability-as-shipped/"  # config/bench_urls.py
CHECKOUT_PATH = "/api/v1/manage/salons/{salon_id}/bookings/{booking_id}/checkout/"
ROW_IDS = (
    "P1",
    "P2",
    "P3",
    "P3s",
    "P4",
    "P4b",
    "P5",
    "P6",
    "P7",
    "P8",
    "P9",
    "P9s",
    "P10",
    "P11",
    "V2",
    "V3",
    "V4",
)
STACK_ROWS = frozenset(
    {"P1", "P2", "P4", "P4b", "P5", "P8", "P9", "P9s", "P10", "P11", "V4"}
)  # measured against the running stack
INVOICE_ROWS = frozenset({"P10", "P11"})
NOTIFICATIONS_QUEUE = "notifications"
EINVOICING_QUEUE = "einvoicing"
CHECKOUT_STAFF = 4
# Customers are many so that each one's throttle counter (one small key per user and window) is as busy
# as a real customer's.
CUSTOMERS = 200
CUSTOMER_PHONE_PREFIX = "+96656"
STAFF = 20
# 30 minutes of service plus 15 of buffer occupy 45 minutes, a multiple of the 15-minute slot step: every
# start on the 45-minute lattice from the opening time stays on the slot grid whichever of them are
# already booked (the grid restarts where a booking's buffer ends), so requests may run in any order.
BUFFER_MINUTES = 15
LATTICE_MINUTES = 45
SMS_BODY = "تم تأكيد حجزك في صالون الاختبار: قص شعر مع الموظف 1، السبت 10:00. للإلغاء افتح التطبيق."
HTTP_TIMEOUT = (5.0, 60.0)  # connect, read
# P10's invoicing salon: a valid tax profile (VAT number 15 digits, 3 first and last; a national address).
BENCH_TAX_ADDRESS = dict(street="Olaya Street", building="2001", district="Al Olaya", city="Riyadh")
BENCH_TAX_PROFILE = {
    "legal_name": "صالون الاختبار",
    "vat_number": "399999999900003",
    "cr_number": "1010010001",
    "address": {**BENCH_TAX_ADDRESS, "postal_code": "12213"},
}


# --- pure helpers (tests/test_bench.py) --------------------------------------------------------------


def safe_ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def format_ratio(ratio: float | None) -> str:
    return f"{ratio:.2f}" if ratio is not None and math.isfinite(ratio) else "n/a"


@dataclass(frozen=True)
class Goal:
    """A bound on a ratio: `<=` (at most) or `>=` (at least)."""

    op: str
    bound: float

    def met(self, ratio: float | None) -> bool:
        if ratio is None or not math.isfinite(ratio):
            return False
        return ratio <= self.bound if self.op == "<=" else ratio >= self.bound

    def __str__(self) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {self.bound:g}"


@dataclass(frozen=True)
class Figure:
    """One row of the table. `checks_ok` carries conditions beyond the ratio (P5's one 201)."""

    id: str
    what: str
    measured: str
    ratio: float | None
    goal: Goal
    checks_ok: bool = True
    evidence: str = ""  # printed under the table: what explains the figure (CPU per request, ...)

    @property
    def verdict(self) -> str:
        return "pass" if self.checks_ok and self.goal.met(self.ratio) else "MISS"


TABLE_HEADERS = ("id", "what", "measured", "ratio", "goal", "result")


def figure_rows(figures: Sequence[Figure]) -> list[list[str]]:
    return [[f.id, f.what, f.measured, format_ratio(f.ratio), str(f.goal), f.verdict] for f in figures]


def parse_rows(text: str) -> tuple[str, ...]:
    """`--rows P6,p7,P8` as the table's ids, in the table's order; "all" is every row."""
    if text.strip().lower() == "all":
        return ROW_IDS
    by_lower = {row.lower(): row for row in ROW_IDS}
    wanted = {name.strip().lower() for name in text.split(",") if name.strip()}
    unknown = sorted(wanted - by_lower.keys())
    if unknown or not wanted:
        named = ", ".join(unknown) or "(none given)"
        raise argparse.ArgumentTypeError(f"unknown rows {named}; the rows are {', '.join(ROW_IDS)}")
    return tuple(row for row in ROW_IDS if row.lower() in wanted)


def expected_status(phase: str) -> int | None:
    """The answer every request of a phase should get: P8 reads and P10 checkouts (200), the rest create
    (201); P5's same-slot race has its own check (one 201, the rest 409)."""
    if phase == "P5 same":
        return None
    return 200 if phase.startswith(("P8", "P10")) else 201


@dataclass
class RedisCalls:
    """What this process sends to Redis while `counting()`: round trips (one command, or a pipeline sent
    at once) and replies read (one a command), counted in redis-py's connection class, which Django's
    Redis cache (throttle counters) and Celery's broker client both use."""

    round_trips: int = 0
    replies: int = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[RedisCalls]:
        from redis.connection import AbstractConnection

        send, read = AbstractConnection.send_packed_command, AbstractConnection.read_response

        def counted_send(connection: Any, *args: Any, **kwargs: Any) -> Any:
            self.round_trips += 1
            return send(connection, *args, **kwargs)

        def counted_read(connection: Any, *args: Any, **kwargs: Any) -> Any:
            self.replies += 1
            return read(connection, *args, **kwargs)

        AbstractConnection.send_packed_command = counted_send
        AbstractConnection.read_response = counted_read
        try:
            yield self
        finally:
            AbstractConnection.send_packed_command = send
            AbstractConnection.read_response = read


# --- the plan: sizes of each measurement --------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    # gunicorn sync workers, the Procfile's class: the views are CPU and database bound and never wait
    # on a provider (P1 checks that), so threads would only add GIL contention; 4 = 2 per core, enough to
    # overlap the database round trips, and compose's WEB_CONCURRENCY.
    web_workers: int = 4
    # The notifications worker's threads: the Procfile's NOTIFICATIONS_CONCURRENCY default.
    notification_threads: int = 20
    default_worker_processes: int = 2  # the Procfile's WORKER_CONCURRENCY default; idle here
    warmup_requests: int = 40
    # Paired measurements alternate in rounds, ABBA repeated `*_repeats` times, `*_round` requests (or
    # tasks) a round: short rounds also cancel background load that comes and goes within seconds.
    p1_round: int = 20  # booking creates a round: 200 per provider latency
    p1_repeats: int = 5
    p1_clients: int = 4  # one per gunicorn worker
    # P1 is a latency figure, so it is taken below saturation: requests leave on a fixed schedule at about
    # a third of what gunicorn can create here (P2), not back to back. Near saturation, latency is mostly
    # queueing and would swing with whatever else takes the CPU (the worker's deliveries at 0 ms).
    p1_per_second: float = 15.0
    p1_slow_ms: int = 2000
    p2_round: int = 75  # requests a round: 300 per view
    p2_repeats: int = 2
    p2_clients: int = 8  # two per gunicorn worker: no worker idles between an answer and the next request
    p5_concurrent: int = 100  # fixed by the goal's definition, never scaled; one ABBA
    p4_round: int = 100  # tasks a round: 400 per kind
    p4_repeats: int = 2
    p4b_rows: int = 500
    p4b_latency_ms: int = 200
    p3_runs: int = 20
    p6_requests: int = 50  # availability requests counted in this process (P6, P7), of each kind
    # P8 alternates the two paths request by request (ABBA of single requests): the machine is shared, and
    # anything longer lets someone else's burst land on one path only.
    p8_round: int = 1
    p8_repeats: int = 50  # 100 requests per path
    waitlist: WaitlistPlan = field(default_factory=WaitlistPlan)  # P9, P9s
    # P10: in-salon checkouts a round, to a salon that invoices and to one that does not: 160 of each.
    p10_round: int = 40
    p10_repeats: int = 2
    p10_clients: int = 8  # as P2: two per gunicorn worker
    # V4: creates a round over HTTP, one-service bookings (A) and 2-item visits (B), 300 of each, from
    # as many clients as P2. Short rounds, as P8's: rounds of 75 read 0.85-1.33 in three runs on the
    # shared machine, rounds of 25 0.83-1.04 in six (docs/performance.md). The in-process evidence (the
    # booking service alone): 100 of each in rounds of 10.
    v4_round: int = 25
    v4_repeats: int = 6
    v4_clients: int = 8
    v4_service_round: int = 10
    v4_service_repeats: int = 5

    def scaled(self, factor: float) -> Plan:
        """Smaller (or larger) request counts, for a quick look; P5 and the process sizes stay as they are."""

        def scale(count: int, least: int = 1) -> int:
            return max(least, round(count * factor))

        return replace(
            self,
            warmup_requests=scale(self.warmup_requests, least=4),
            p1_round=scale(self.p1_round),
            p2_round=scale(self.p2_round),
            p4_round=scale(self.p4_round),
            p4b_rows=scale(self.p4b_rows, least=20),
            p3_runs=scale(self.p3_runs, least=3),
            p6_requests=scale(self.p6_requests, least=5),
            p8_repeats=scale(self.p8_repeats, least=2),
            waitlist=replace(
                self.waitlist,
                entries=scale(self.waitlist.entries, least=50),
                cancellations=scale(self.waitlist.cancellations, least=10),
            ),
            p10_round=scale(self.p10_round),
            v4_round=scale(self.v4_round, least=5),
            v4_service_round=scale(self.v4_service_round, least=2),
        )

    def slots_needed(self) -> int:
        return (
            self.warmup_requests
            + per_kind(self.p1_round, self.p1_repeats) * 2  # both latencies book
            + per_kind(self.p2_round, self.p2_repeats)  # only B (booking) rounds book
            + ABBA.count("A") * self.p5_concurrent  # P5's distinct slots
            + ABBA.count("B")  # P5's one slot per same-slot round
        )

    def v4_starts_needed(self) -> int:
        """V4's lattice starts: every measured create of both kinds, and a warm-up round of each."""
        return 2 * (per_kind(self.v4_round, self.v4_repeats) + self.v4_clients)


def per_kind(round_size: int, repeats: int) -> int:
    """Requests (or tasks) of one kind over `repeats` ABBAs: two rounds of each kind in each."""
    return round_size * ABBA.count("A") * repeats


T = TypeVar("T")


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def bench_env(stores: Stores, **kwargs: str) -> dict[str, str]:
    # Every real URL plus the rows' baseline views (config/bench_settings.py -> config/bench_urls.py).
    return stack_env(os.environ, stores, DJANGO_SETTINGS_MODULE="config.bench_settings", **kwargs)


# --- data ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    staff_id: int
    start: str  # ISO 8601 with the salon's offset, as a client sends it


@dataclass(frozen=True)
class AvailabilityScenario:
    """P3's busy salon, for the API: 20 staff members, 500 bookings over the 7 days from `first_day`."""

    salon_id: int
    service_id: int
    staff_id: int  # one of them, for the 1 staff x 1 day request
    first_day: date

    def path(self, *, as_shipped: bool = False) -> str:
        return (AVAILABILITY_AS_SHIPPED_PATH if as_shipped else AVAILABILITY_PATH).format(
            salon_id=self.salon_id
        )

    def query(self, *, days: int, one_staff: bool = False) -> dict[str, str]:
        query = {"service": str(self.service_id), "date": self.first_day.isoformat(), "days": str(days)}
        return {**query, "staff": str(self.staff_id)} if one_staff else query


@dataclass(frozen=True)
class CheckoutScenario:
    """P10's two salons, alike but for a tax profile (and an onboarded unit): started, unpaid bookings to
    check out in each, and their manager's token."""

    plain_salon_id: int
    invoicing_salon_id: int
    token: str
    bookings: Mapping[int, Sequence[int]]  # salon id: booking ids

    def jobs(self, salon_id: int, booking_ids: Sequence[int]) -> list[Job]:
        return [
            Job(CHECKOUT_PATH.format(salon_id=salon_id, booking_id=pk), self.token, {"method": "cash"})
            for pk in booking_ids
        ]


@dataclass
class Data:
    salon_id: int
    service_id: int
    tokens: list[str]
    slots: Iterator[Slot]
    availability: AvailabilityScenario
    checkout: CheckoutScenario | None = None
    visits: bench_visits.VisitScenario | None = None  # V4


def make_data(plan: Plan) -> Data:
    """A 20-staff salon (bench_availability's, with a 15-minute buffer), customers and their tokens, and
    enough free slots for every booking of the run, spread over the staff so that concurrent requests
    rarely wait on the same staff row lock."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User
    from backend.bookings.management.commands.bench_availability import _book, _salon_with_staff
    from backend.salons import services

    with transaction.atomic():
        salon, service = _salon_with_staff(staff_count=STAFF)
        service = services.service_update(service=service, data={"buffer_minutes": BUFFER_MINUTES})
        customers = [User.objects.create_user(f"{CUSTOMER_PHONE_PREFIX}{n:07d}") for n in range(CUSTOMERS)]
        # P3's busy scenario, in a salon of its own that no booking of the run touches (P6, P7, P8).
        busy_salon, busy_service = _salon_with_staff(staff_count=STAFF)
        busy_from = timezone.localdate() + timedelta(days=7)  # as bench_availability's
        _book(salon=busy_salon, service=busy_service, date_from=busy_from, days=7, count=500)
    tokens = [str(AccessToken.for_user(customer)) for customer in customers]
    first_day = timezone.localdate() + timedelta(days=1)
    slots = lattice_slots(salon=salon, service=service, first_day=first_day, needed=plan.slots_needed())
    availability = AvailabilityScenario(
        salon_id=busy_salon.pk,
        service_id=busy_service.pk,
        staff_id=busy_salon.staff.order_by("pk").values_list("pk", flat=True).first(),
        first_day=busy_from,
    )
    return Data(
        salon_id=salon.pk, service_id=service.pk, tokens=tokens, slots=iter(slots), availability=availability
    )


def make_checkout_data(plan: Plan) -> CheckoutScenario:
    """Two 4-staff salons with bench_availability's hours and service, the second with a tax profile; in
    each, as many confirmed bookings as P10 checks out, started in the past (45 minutes apart a staff
    member), unpaid. Their manager is bench_availability's customer."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User
    from backend.bookings.management.commands.bench_availability import (
        BENCH_CUSTOMER_PHONE,
        _salon_with_staff,
        confirmed_bookings,
    )
    from backend.einvoicing.profiles import tax_profile_set

    count = per_kind(plan.p10_round, plan.p10_repeats)
    started = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    bookings: dict[int, list[int]] = {}
    with transaction.atomic():
        salons = [_salon_with_staff(staff_count=CHECKOUT_STAFF) for _ in range(2)]
        tax_profile_set(salon=salons[1][0], data=BENCH_TAX_PROFILE)
        manager = User.objects.get(phone_number=BENCH_CUSTOMER_PHONE)
        for salon, service in salons:
            staff_ids = list(salon.staff.order_by("pk").values_list("pk", flat=True))
            starts = [
                (
                    staff_ids[n % len(staff_ids)],
                    started - timedelta(minutes=LATTICE_MINUTES * (n // len(staff_ids))),
                )
                for n in range(count)
            ]
            created = confirmed_bookings(salon=salon, service=service, starts=starts)
            bookings[salon.pk] = [booking.pk for booking in created]
    return CheckoutScenario(
        plain_salon_id=salons[0][0].pk,
        invoicing_salon_id=salons[1][0].pk,
        token=str(AccessToken.for_user(manager)),
        bookings=bookings,
    )


def lattice_slots(*, salon: Any, service: Any, first_day: date, needed: int) -> list[Slot]:
    """Free starts on the 45-minute lattice, as the availability engine offers them, in time order and
    round robin over the staff."""
    from backend.bookings.selectors import availability_for

    days = math.ceil(needed / (STAFF * 13)) + 1  # 13 lattice starts a day per staff member
    if days > salon.horizon_days:
        raise HarnessError(f"{needed} slots need {days} days, beyond the salon's horizon")
    offered = availability_for(salon=salon, service=service, date_from=first_day, days=days)
    slots = []
    for slot in offered:  # sorted by start, then staff id
        local = slot.start.astimezone(salon.tz)
        minutes = local.hour * 60 + local.minute
        opening = 10 * 60 if minutes < 16 * 60 else 16 * 60  # bench_availability's two daily ranges
        if (minutes - opening) % LATTICE_MINUTES == 0:
            slots.append(Slot(staff_id=slot.staff_id, start=local.isoformat()))
    if len(slots) < needed:
        raise HarnessError(f"only {len(slots)} free slots for {needed} bookings")
    return slots


# --- HTTP load ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    path: str
    token: str
    body: Mapping[str, Any]
    idempotency_key: str = ""  # sent as `Idempotency-Key` when given (V4), as a mobile client does


@dataclass(frozen=True)
class Call:
    status: int
    seconds: float


@dataclass
class Load:
    """Sends requests to the API and counts every answer by phase and status."""

    base_url: str
    statuses: dict[str, Counter] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _post(self, job: Job, session: requests.Session | None = None) -> Call:
        session = session or self._session()
        headers = {"Authorization": f"Bearer {job.token}", "Accept-Language": "ar"}
        if job.idempotency_key:
            headers["Idempotency-Key"] = job.idempotency_key
        started = time.perf_counter()
        try:
            response = session.post(
                self.base_url + job.path, json=dict(job.body), headers=headers, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as error:
            raise HarnessError(f"POST {job.path} got no answer: {error}") from error
        return Call(response.status_code, time.perf_counter() - started)

    def get(self, phase: str, path: str, query: Mapping[str, str]) -> Call:
        """One anonymous GET from this thread's session, counted under `phase`."""
        started = time.perf_counter()
        try:
            response = self._session().get(
                self.base_url + path, params=query, headers={"Accept-Language": "ar"}, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as error:
            raise HarnessError(f"GET {path} got no answer: {error}") from error
        call = Call(response.status_code, time.perf_counter() - started)
        self._count(phase, [call])
        return call

    def _count(self, phase: str, calls: Sequence[Call]) -> None:
        self.statuses.setdefault(phase, Counter()).update(call.status for call in calls)

    def many(
        self, phase: str, jobs: Sequence[Job], *, clients: int, per_second: float | None = None
    ) -> tuple[list[Call], float]:
        """Sends `jobs` from `clients` threads, each taking the next job, back to back or, with
        `per_second`, job i at i / per_second seconds from the start (an open-loop schedule: waiting for
        one's departure time is pacing, not synchronization). The calls and the wall time."""
        executor = ThreadPoolExecutor(max_workers=clients, thread_name_prefix="client")
        started = time.perf_counter()

        def send(indexed: tuple[int, Job]) -> Call:
            index, job = indexed
            if per_second:
                time.sleep(max(0.0, started + index / per_second - time.perf_counter()))
            return self._post(job)

        try:
            calls = list(executor.map(send, enumerate(jobs)))
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: do not send the rest
            raise
        wall = time.perf_counter() - started
        executor.shutdown()
        self._count(phase, calls)
        return calls, wall

    def together(self, phase: str, jobs: Sequence[Job]) -> tuple[list[Call], float]:
        """Sends all `jobs` at once, one thread each released by a barrier; the calls and the wall time
        from the release to the last answer."""
        barrier = threading.Barrier(len(jobs) + 1, timeout=30)
        finished: list[float] = []

        def send(job: Job) -> Call:
            with requests.Session() as session:
                barrier.wait()
                call = self._post(job, session)
                finished.append(time.perf_counter())
                return call

        executor = ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="racer")
        try:
            futures = [executor.submit(send, job) for job in jobs]
            barrier.wait()
            released = time.perf_counter()
            calls = [future.result() for future in futures]
        except threading.BrokenBarrierError as error:
            raise HarnessError("the P5 clients did not all start within 30 s") from error
        except BaseException:
            barrier.abort()
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        executor.shutdown()
        self._count(phase, calls)
        return calls, max(finished) - released


def booking_jobs(data: Data, slots: Sequence[Slot], tokens: Iterator[str]) -> list[Job]:
    return [
        Job(
            BOOKINGS_PATH,
            next(tokens),
            {"salon": data.salon_id, "service": data.service_id, "staff": slot.staff_id, "start": slot.start},
        )
        for slot in slots
    ]


def take(iterator: Iterator[T], count: int) -> list[T]:
    taken = list(itertools.islice(iterator, count))
    if len(taken) < count:
        raise HarnessError("ran out of prepared slots")
    return taken


# --- the stack ----------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Everything a measurement touches: the fake provider, the processes, the client, the data."""

    plan: Plan
    data: Data
    load: Load
    fake: Any  # backend.fakes.FakeUnifonic
    web: Child
    notifications: Child
    default: Child
    fatoora: Any = None  # backend.fakes.FakeFatoora, for P10 and P11
    tokens: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = itertools.cycle(self.data.tokens)  # round robin: deterministic, no seed needed

    def children(self) -> list[Child]:
        return [self.web, self.notifications, self.default]

    def check_alive(self) -> None:
        for child in self.children():
            child.check_alive()

    def bookings(self, count: int) -> list[Job]:
        return booking_jobs(self.data, take(self.data.slots, count), self.tokens)

    def baselines(self, count: int) -> list[Job]:
        return [Job(BASELINE_PATH, next(self.tokens), {"n": n}) for n in range(count)]

    def web_cpu(self) -> CpuMeter:
        """A meter of gunicorn's workers (its master only forks and watches them)."""
        return CpuMeter(lambda: child_pids(self.web.process.pid))

    def notifications_cpu(self) -> CpuMeter:
        return CpuMeter(lambda: [self.notifications.process.pid])

    def provider_latency(self, milliseconds: int) -> None:
        self.fake.configure(latency_ms=milliseconds)

    def default_cpu(self) -> CpuMeter:
        """A meter of the default worker's pool processes (its parent only hands tasks out)."""
        return CpuMeter(lambda: child_pids(self.default.process.pid))

    def notifications_consuming(self, on: bool) -> None:
        """Starts or stops the notifications worker's consumption (tasks it already holds still run)."""
        consuming(NOTIFICATIONS_QUEUE, self.notifications, on)

    def einvoicing_consuming(self, on: bool) -> None:
        """Starts or stops the default worker's consumption of the e-invoicing queue (reporting)."""
        consuming(EINVOICING_QUEUE, self.default, on)


def consuming(queue: str, worker: Child, on: bool) -> None:
    from worker.celery import app

    control = app.control.add_consumer if on else app.control.cancel_consumer
    if not control(queue, destination=[worker.hostname], reply=True, timeout=5):
        raise HarnessError(f"the {worker.name} worker did not answer a consumer change")


def wait_notifications_settled(timeout: float) -> None:
    """Every outbox row sent: the worker is idle again, so the next measurement starts from quiet."""
    from backend.notifications.models import Notification, Status

    def settled() -> bool:
        failed = Notification.objects.filter(status=Status.FAILED).first()
        if failed is not None:
            raise HarnessError(f"notification {failed.pk} failed: {failed.last_error}")
        return not Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists()

    wait_for(settled, timeout=timeout, what="the notifications outbox to drain", interval=0.1)


# --- the measurements ---------------------------------------------------------------------------------


def warm_up(stack: Stack) -> None:
    """Each gunicorn worker loads the URLconf, views and connections on its first requests: not measured."""
    jobs = stack.baselines(stack.plan.warmup_requests // 2) + stack.bookings(stack.plan.warmup_requests // 2)
    stack.load.many("warm-up", jobs, clients=stack.plan.p2_clients)
    wait_notifications_settled(timeout=60)


def measure_p1(stack: Stack) -> Figure:
    """Booking p95 with the provider at 2,000 ms vs 0 ms; the notifications worker consumes throughout,
    so a request that waited on it (or on the provider) would show here."""
    plan = stack.plan
    latency = {"A": 0, "B": plan.p1_slow_ms}
    seconds: dict[str, list[float]] = {"A": [], "B": []}
    worker = {"A": stack.notifications_cpu(), "B": stack.notifications_cpu()}
    rounds = ABBA * plan.p1_repeats
    progress(f"P1: {len(rounds)} rounds of {plan.p1_round} bookings, provider at 0 and {plan.p1_slow_ms} ms")
    for kind in rounds:
        stack.provider_latency(latency[kind])
        with worker[kind].measuring():
            calls, _ = stack.load.many(
                "P1",
                stack.bookings(plan.p1_round),
                clients=plan.p1_clients,
                per_second=plan.p1_per_second,
            )
        seconds[kind] += [call.seconds for call in calls if call.status == 201]
    stack.provider_latency(0)

    def ms(kind: str, q: float) -> float:
        return percentile(seconds[kind], q) * 1000 if seconds[kind] else math.nan

    fast, slow = ms("A", 95), ms("B", 95)
    return Figure(
        "P1",
        f"booking-create p95, SMS provider at {plan.p1_slow_ms:,} ms ÷ at 0 ms",
        f"{slow:.0f} ms ÷ {fast:.0f} ms (n={len(seconds['B'])}/{len(seconds['A'])}, "
        f"{plan.p1_per_second:g} requests/s)",
        safe_ratio(slow, fast),
        Goal("<=", 1.2),
        evidence=f"medians {ms('B', 50):.0f} ms ÷ {ms('A', 50):.0f} ms; meanwhile the notifications worker "
        f"used {worker['B'].cores()} ÷ {worker['A'].cores()} cores, the machine was "
        f"{worker['B'].machine_busy()} ÷ {worker['A'].machine_busy()} busy",
    )


def measure_p2(stack: Stack) -> Figure:
    """Booking-create throughput vs a bare authenticated view that inserts one row, same gunicorn."""
    plan = stack.plan
    created = Counter()
    seconds = Counter()
    cpu = {"A": stack.web_cpu(), "B": stack.web_cpu()}
    # This process is the load generator: its CPU, and what the rest of the machine spent meanwhile.
    client = {kind: CpuMeter(lambda: [os.getpid()]) for kind in "AB"}
    rounds = ABBA * plan.p2_repeats
    for round_number, kind in enumerate(rounds, 1):
        name = "baseline" if kind == "A" else "booking"
        progress(f"P2 round {round_number}/{len(rounds)}: {plan.p2_round} {name} requests")
        jobs = stack.baselines(plan.p2_round) if kind == "A" else stack.bookings(plan.p2_round)
        with cpu[kind].measuring(), client[kind].measuring():
            calls, wall = stack.load.many(f"P2 {name}", jobs, clients=plan.p2_clients)
        created[kind] += sum(call.status == 201 for call in calls)
        seconds[kind] += wall
    booking, baseline = created["B"] / seconds["B"], created["A"] / seconds["A"]

    def rest(kind: str) -> str:
        return cpu[kind].rest_of_machine_per_unit_ms(created[kind], besides=[client[kind]])

    return Figure(
        "P2",
        "booking-create throughput ÷ bare DRF view inserting one row",
        f"{booking:.1f} ÷ {baseline:.1f} created/s (n={created['B']}/{created['A']}, "
        f"{plan.p2_clients} clients)",
        safe_ratio(booking, baseline),
        Goal(">=", 0.5),
        evidence=f"CPU per request: gunicorn's workers {cpu['B'].per_unit_ms(created['B'])} ÷ "
        f"{cpu['A'].per_unit_ms(created['A'])}, the rest of the machine (PostgreSQL, Redis, the kernel) "
        f"{rest('B')} ÷ {rest('A')}, the load generator {client['B'].per_unit_ms(created['B'])} ÷ "
        f"{client['A'].per_unit_ms(created['A'])}; machine CPU busy {cpu['B'].machine_busy()} ÷ "
        f"{cpu['A'].machine_busy()}",
    )


def measure_p5(stack: Stack) -> Figure:
    """100 concurrent requests for one slot vs for 100 distinct slots: the wall time of each burst."""
    plan = stack.plan
    wall = Counter()
    same_ok = True
    outcomes = []
    for round_number, kind in enumerate(ABBA, 1):
        name = "distinct" if kind == "A" else "same"
        progress(f"P5 round {round_number}/4: {plan.p5_concurrent} requests, {name} slot(s)")
        if kind == "A":
            jobs = stack.bookings(plan.p5_concurrent)
        else:
            # One slot, raced by as many different customers.
            (slot,) = take(stack.data.slots, 1)
            racers = itertools.islice(itertools.cycle(stack.data.tokens), plan.p5_concurrent)
            jobs = booking_jobs(stack.data, [slot] * plan.p5_concurrent, racers)
        calls, seconds = stack.load.together(f"P5 {name}", jobs)
        wall[kind] += seconds
        if kind == "B":
            statuses = Counter(call.status for call in calls)
            outcomes.append(f"{statuses[201]} x 201 + {statuses[409]} x 409")
            same_ok &= statuses == Counter({201: 1, 409: plan.p5_concurrent - 1})
    rounds = ABBA.count("A")  # per kind
    return Figure(
        "P5",
        f"{plan.p5_concurrent} concurrent same-slot ÷ distinct-slot requests, wall time",
        f"{1000 * wall['B'] / rounds:.0f} ms ÷ {1000 * wall['A'] / rounds:.0f} ms a burst "
        f"(mean of {rounds}); "
        f"same slot: {', '.join(outcomes)}",
        safe_ratio(wall["B"], wall["A"]),
        Goal("<=", 3),
        checks_ok=same_ok,
    )


def _enqueue_deliveries(count: int, label: str) -> tuple[list[int], datetime]:
    """`count` pending outbox rows (as a booking writes them), then one delivery task each."""
    from django.utils import timezone

    from backend.notifications.models import Kind, Notification
    from worker.tasks.notifications import deliver_notification

    rows = Notification.objects.bulk_create(
        Notification(
            phone=f"+96657{n:07d}",
            kind=Kind.BOOKING_CONFIRMED,
            language="ar",
            body=SMS_BODY,
            dedupe_key=f"bench:{label}:{n}:{uuid.uuid4().hex}",
        )
        for n in range(count)
    )
    ids = [row.pk for row in rows]
    started = timezone.now()
    for notification_id in ids:
        deliver_notification.delay(notification_id)
    return ids, started


def _delivered_at(ids: list[int], *, timeout: float) -> datetime:
    """When the last of `ids` was sent (the worker's own timestamp)."""
    from django.db.models import Max

    from backend.notifications.models import Notification, Status

    rows = Notification.objects.filter(pk__in=ids)

    def all_sent() -> datetime | None:
        if rows.filter(status=Status.FAILED).exists():
            raise HarnessError(
                f"a notification failed: {rows.filter(status=Status.FAILED).first().last_error}"
            )
        if rows.filter(status=Status.SENT).count() < len(ids):
            return None
        return rows.aggregate(last=Max("sent_at"))["last"]

    return wait_for(all_sent, timeout=timeout, what=f"{len(ids)} notifications to be sent", interval=0.05)


def deliveries_per_second(count: int, label: str, *, timeout: float = 120) -> float:
    ids, started = _enqueue_deliveries(count, label)
    return count / (_delivered_at(ids, timeout=timeout) - started).total_seconds()


def echoes_per_second(count: int, *, timeout: float = 120) -> float:
    """No-op tasks (`core.echo`) on the notifications queue, so the same worker takes them; their results
    are stored like a delivery's (the django-db result backend), so only the delivery's own work differs."""
    from django.db.models import Max
    from django.utils import timezone
    from django_celery_results.models import TaskResult

    from worker.tasks.core import echo

    started = timezone.now()
    ids = [echo.apply_async(("bench",), queue=NOTIFICATIONS_QUEUE).id for _ in range(count)]
    done = TaskResult.objects.filter(task_id__in=ids, status="SUCCESS")

    def all_done() -> datetime | None:
        return done.aggregate(last=Max("date_done"))["last"] if done.count() == count else None

    finished = wait_for(all_done, timeout=timeout, what=f"{count} echo tasks", interval=0.05)
    return count / (finished - started).total_seconds()


def measure_p4(stack: Stack) -> tuple[Figure, float]:
    """Deliveries per second of one notifications worker, provider at 0 ms, vs no-op tasks on it; and the
    no-op rate, the most any task reaches on this worker and machine."""
    plan = stack.plan
    stack.provider_latency(0)
    count = plan.p4_round
    rates: dict[str, list[float]] = {"A": [], "B": []}
    cpu = {"A": stack.notifications_cpu(), "B": stack.notifications_cpu()}
    rounds = ABBA * plan.p4_repeats
    for round_number, kind in enumerate(rounds, 1):
        progress(
            f"P4 round {round_number}/{len(rounds)}: {count} {'echo tasks' if kind == 'A' else 'deliveries'}"
        )
        with cpu[kind].measuring():
            if kind == "A":
                rates[kind].append(echoes_per_second(count))
            else:
                rates[kind].append(deliveries_per_second(count, f"p4-{round_number}"))
    # Each kind's rate over its rounds: total tasks ÷ total seconds.
    echo, delivery = (len(rates[k]) * count / sum(count / rate for rate in rates[k]) for k in ("A", "B"))
    tasks = per_kind(plan.p4_round, plan.p4_repeats)
    figure = Figure(
        "P4",
        "deliveries/s of one notifications worker ÷ no-op tasks/s, same worker and broker",
        f"{delivery:.0f} ÷ {echo:.0f} per s ({tasks} each, {plan.notification_threads} threads, "
        "provider at 0 ms)",
        safe_ratio(delivery, echo),
        Goal(">=", 0.5),
        evidence=f"worker CPU per task {cpu['B'].per_unit_ms(tasks)} ÷ {cpu['A'].per_unit_ms(tasks)}; "
        f"machine CPU busy {cpu['B'].machine_busy()} ÷ {cpu['A'].machine_busy()}",
    )
    return figure, echo


def measure_p4b(stack: Stack, no_op_rate: float) -> Figure:
    """Deliveries per second with a provider that takes 200 ms, vs what the threads could do if only the
    provider's latency bounded them."""
    plan = stack.plan
    progress(f"P4b: {plan.p4b_rows} deliveries, provider at {plan.p4b_latency_ms} ms")
    stack.provider_latency(plan.p4b_latency_ms)
    cpu = stack.notifications_cpu()
    with cpu.measuring():
        rate = deliveries_per_second(plan.p4b_rows, "p4b")
    stack.provider_latency(0)
    ideal = plan.notification_threads / (plan.p4b_latency_ms / 1000)
    return Figure(
        "P4b",
        f"deliveries/s at {plan.p4b_latency_ms} ms provider latency ÷ (threads ÷ latency)",
        f"{rate:.1f} ÷ ({plan.notification_threads} ÷ {plan.p4b_latency_ms / 1000:g} s = {ideal:.0f}) "
        f"per s ({plan.p4b_rows} rows)",
        safe_ratio(rate, ideal),
        Goal(">=", 0.8),
        evidence=f"worker CPU per delivery {cpu.per_unit_ms(plan.p4b_rows)} ({cpu.cores()} cores used); "
        f"machine CPU busy {cpu.machine_busy()}; no-op tasks on this worker (P4): {no_op_rate:.0f}/s",
    )


def availability_rows(plan: Plan) -> list[dict[str, Any]]:
    """bench_availability's own scenarios and timings (its rows, caught instead of printed)."""
    from backend.bookings.management.commands.bench_availability import Command

    class Capture(Command):
        rows: list[dict[str, Any]] = []

        def _print(self, rows: list[dict[str, Any]]) -> None:
            self.rows = rows

    progress(f"P3: bench_availability, {plan.p3_runs} runs per scenario")
    command = Capture()
    command.handle(runs=plan.p3_runs)
    return command.rows


def measure_p3(rows: list[dict[str, Any]]) -> Figure:
    small, busy, _ = rows
    return Figure(
        "P3",
        f"availability SQL queries, {busy['scenario']} ÷ {small['scenario']}",
        f"{busy['queries']} ÷ {small['queries']} queries; median {busy['engine_ms']:.1f} ÷ "
        f"{small['engine_ms']:.1f} ms ({busy['api_ms']:.1f} ÷ {small['api_ms']:.1f} ms with the body)",
        safe_ratio(busy["queries"], small["queries"]),
        Goal("<=", 1),
    )


def measure_p3s(rows: list[dict[str, Any]]) -> Figure:
    """P3's busy salon again with special hours present (a span for the salon and for each staff
    member): the same one statement, and what the spans cost the engine."""
    _, busy, special = rows
    return Figure(
        "P3s",
        f"availability with special hours, {busy['scenario']}: with ÷ without",
        f"{special['queries']} ÷ {busy['queries']} queries; median {special['engine_ms']:.1f} ÷ "
        f"{busy['engine_ms']:.1f} ms ({special['api_ms']:.1f} ÷ {busy['api_ms']:.1f} ms with the body)",
        safe_ratio(special["queries"], busy["queries"]),
        Goal("<=", 1),
    )


def measure_visit_availability(rows: list[dict[str, Any]], items: int) -> Figure:
    """V2, V3: a visit's availability on P3's busy salon ÷ one service's: statements and median time."""
    one, visit = rows[0], rows[items - 1]
    return Figure(
        f"V{items}",
        f"availability of a {items}-item visit ÷ one service, 20 staff x 7 days, 500 bookings",
        f"{visit['queries']} ÷ {one['queries']} queries; median {visit['ms']:.1f} ÷ {one['ms']:.1f} ms "
        f"({visit['slots']} ÷ {one['slots']} slots)",
        safe_ratio(visit["queries"], one["queries"]),
        Goal("<=", 1),
        evidence=f"V{items} time ratio {format_ratio(safe_ratio(visit['ms'], one['ms']))}",
    )


def visit_jobs(
    scenario: bench_visits.VisitScenario, kind: str, count: int, tokens: Iterator[str]
) -> list[Job]:
    """V4's requests of one kind on the next `count` lattice starts, each with an Idempotency-Key of its
    own (the run's database is new, so the keys need no randomness)."""
    return [
        Job(
            BOOKINGS_PATH,
            next(tokens),
            scenario.body(kind, start),
            f"bench-v4-{kind}-{start.staff_id}-{start.start}",
        )
        for start in take(scenario.starts, count)
    ]


def measure_v4(stack: Stack) -> Figure:
    """V4: 2-item visits created per second ÷ one-service bookings, POST /bookings/ through gunicorn with
    an Idempotency-Key, on V4's own salon; then the salon's rows are checked: every request a 201, the
    stored bookings one item (A) or two (B) as created, and no overlap of a staff member or a customer."""
    plan, scenario = stack.plan, stack.data.visits
    requested, answered = Counter(), Counter()  # every request of the row, warm-up included: the checks
    created, seconds = Counter(), Counter()  # the timed rounds: the ratio
    cpu = {"A": stack.web_cpu(), "B": stack.web_cpu()}
    client = {kind: CpuMeter(lambda: [os.getpid()]) for kind in "AB"}

    def send(kind: str, phase: str, count: int) -> tuple[list[Call], float]:
        calls, wall = stack.load.many(
            phase, visit_jobs(scenario, kind, count, stack.tokens), clients=plan.v4_clients
        )
        requested[kind] += len(calls)
        answered[kind] += sum(call.status == 201 for call in calls)
        return calls, wall

    for kind in "AB":  # each gunicorn worker runs both paths once before the clock does
        send(kind, "V4 warm-up", plan.v4_clients)
    rounds = ABBA * plan.v4_repeats
    for round_number, kind in enumerate(rounds, 1):
        name = "booking" if kind == "A" else "visit"
        progress(f"V4 round {round_number}/{len(rounds)}: {plan.v4_round} {name} creates")
        with cpu[kind].measuring(), client[kind].measuring():
            calls, wall = send(kind, f"V4 {name}", plan.v4_round)
        created[kind] += sum(call.status == 201 for call in calls)
        seconds[kind] += wall
    visit, booking = created["B"] / seconds["B"], created["A"] / seconds["A"]
    problems = bench_visits.visit_checks(scenario.salon_id).problems(answered, requested)
    rates = scenario.in_process

    def per_request(meters: dict[str, CpuMeter]) -> str:
        return f"{meters['B'].per_unit_ms(created['B'])} ÷ {meters['A'].per_unit_ms(created['A'])}"

    return Figure(
        "V4",
        "create throughput over HTTP, 2-item visit ÷ one service (Idempotency-Key)",
        f"{visit:.1f} ÷ {booking:.1f} created/s (n={created['B']}/{created['A']}, {plan.v4_clients} clients)",
        safe_ratio(visit, booking),
        Goal(">=", 0.7),
        checks_ok=not problems,
        evidence=f"{'; '.join(problems) or 'every request a 201, stored as sent, no overlap'}; CPU per "
        f"request: gunicorn's workers {per_request(cpu)}, the load generator {per_request(client)}; machine "
        f"CPU busy {cpu['B'].machine_busy()} ÷ {cpu['A'].machine_busy()}; through the booking service in "
        f"process {rates.get('B', math.nan):.1f} ÷ {rates.get('A', math.nan):.1f} created/s "
        f"({format_ratio(safe_ratio(rates.get('B', 0), rates.get('A', 0)))})",
    )


@dataclass(frozen=True)
class RequestCosts:
    """What one availability request costs this process, averaged over `requests` of them."""

    requests: int
    queries: float
    round_trips: float  # to Redis
    replies: float
    slots: int


def availability_request_costs(
    scenario: AvailabilityScenario, *, days: int, one_staff: bool = False, token: str = "", requests: int
) -> RequestCosts:
    """SQL queries and Redis round trips of availability requests sent through Django's test client in
    this process: the same settings, URLconf, middleware, authentication and throttles as gunicorn's
    workers (only the WSGI server differs), after a few requests that open the connections."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="ar")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    query = scenario.query(days=days, one_staff=one_staff)

    def send() -> Any:
        response = client.get(scenario.path(), query, **headers)
        if response.status_code != 200:
            raise HarnessError(f"availability answered {response.status_code}: {response.content[:300]!r}")
        return response

    for _ in range(3):
        send()
    calls = RedisCalls()
    with CaptureQueriesContext(connection) as queries, calls.counting():
        for _ in range(requests):
            response = send()
    return RequestCosts(
        requests=requests,
        queries=len(queries) / requests,
        round_trips=calls.round_trips / requests,
        replies=calls.replies / requests,
        slots=len(response.json()["slots"]),
    )


def measure_p6_p7(plan: Plan, data: Data) -> tuple[Figure, Figure]:
    """Redis round trips (P6) and SQL queries (P7) of one availability request, counted in this process."""
    scenario, n = data.availability, plan.p6_requests
    progress(f"P6, P7: {n} availability requests of each kind, counted in this process")
    small = availability_request_costs(scenario, days=1, one_staff=True, requests=n)
    busy = availability_request_costs(scenario, days=7, requests=n)
    signed_in = availability_request_costs(scenario, days=1, one_staff=True, token=data.tokens[0], requests=n)
    p6 = Figure(
        "P6",
        "Redis round trips per availability request, anonymous (goal: the throttle's one)",
        f"{small.round_trips:g} round trips ({small.replies:g} replies) a request, over {n} requests",
        small.round_trips,
        Goal("<=", 1),
        evidence=f"round trips a request: anonymous {small.round_trips:g} (1 staff x 1 day), "
        f"{busy.round_trips:g} (20 staff x 7 days); with an access token {signed_in.round_trips:g}",
    )
    p7 = Figure(
        "P7",
        "SQL queries per availability request: 1 staff x 1 day, 20 staff x 7 days",
        f"{small.queries:g} and {busy.queries:g} queries a request ({small.slots} and {busy.slots} slots)",
        max(small.queries, busy.queries),
        Goal("<=", 2),
        evidence=f"with an access token {signed_in.queries:g} queries a request (the user's row too)",
    )
    return p6, p7


def measure_p8(stack: Stack) -> Figure:
    """The 20 staff x 7 days availability answer over HTTP, one request at a time, on the real path and on
    the path as shipped before issue 17 (the bench URLconf's baseline view): median answer times."""
    plan, scenario = stack.plan, stack.data.availability
    query = scenario.query(days=7)
    paths = {"A": scenario.path(as_shipped=True), "B": scenario.path()}
    for kind in ABBA * 3:  # every gunicorn worker loads both views before the clock runs
        stack.load.get("P8 warm-up", paths[kind], query)
    seconds: dict[str, list[float]] = {"A": [], "B": []}
    cpu = {"A": stack.web_cpu(), "B": stack.web_cpu()}
    rounds = ABBA * plan.p8_repeats
    progress(f"P8: {len(rounds)} rounds of {plan.p8_round} availability request(s) (20 staff x 7 days)")
    for kind in rounds:
        with cpu[kind].measuring():
            for _ in range(plan.p8_round):
                seconds[kind].append(stack.load.get(f"P8 {kind}", paths[kind], query).seconds)

    def ms(kind: str, q: float) -> float:
        return percentile(seconds[kind], q) * 1000

    count = per_kind(plan.p8_round, plan.p8_repeats)
    return Figure(
        "P8",
        "availability 20 staff x 7 days over HTTP, median answer ÷ as shipped before issue 17",
        f"{ms('B', 50):.1f} ms ÷ {ms('A', 50):.1f} ms (n={count}/{count}, one request at a time)",
        safe_ratio(ms("B", 50), ms("A", 50)),
        Goal("<=", 0.6),
        evidence=f"p95 {ms('B', 95):.1f} ms ÷ {ms('A', 95):.1f} ms; gunicorn's CPU per request "
        f"{cpu['B'].per_unit_ms(count)} ÷ {cpu['A'].per_unit_ms(count)}; machine CPU busy "
        f"{cpu['B'].machine_busy()} ÷ {cpu['A'].machine_busy()}",
    )


def invoice_documents(salon_id: int) -> Any:
    from backend.einvoicing.models import Document

    return Document.objects.filter(unit__salon_id=salon_id)


def measure_p10(stack: Stack) -> tuple[Figure, float]:
    """In-salon checkouts per second to a salon that invoices (each checkout issues its invoice, numbered,
    hashed and stored, in the payment's transaction, and queues the unit's report run unless one is
    queued; the reporter stamps) ÷ to a salon without a tax profile (nothing issued), same gunicorn; the
    invoices' rate too, for P11. Reporting waits meanwhile (the worker does not consume the e-invoicing
    queue), so P10 times the web tier only."""
    plan, scenario = stack.plan, stack.data.checkout
    salon = {"A": scenario.plain_salon_id, "B": scenario.invoicing_salon_id}
    waiting = {kind: iter(scenario.bookings[salon[kind]]) for kind in "AB"}
    paid, seconds = Counter(), Counter()
    cpu = {"A": stack.web_cpu(), "B": stack.web_cpu()}
    rounds = ABBA * plan.p10_repeats
    for round_number, kind in enumerate(rounds, 1):
        name = "without invoice" if kind == "A" else "with invoice"
        progress(f"P10 round {round_number}/{len(rounds)}: {plan.p10_round} checkouts {name}")
        jobs = scenario.jobs(salon[kind], take(waiting[kind], plan.p10_round))
        with cpu[kind].measuring():
            calls, wall = stack.load.many(f"P10 {name}", jobs, clients=plan.p10_clients)
        paid[kind] += sum(call.status == 200 for call in calls)
        seconds[kind] += wall
    invoices = invoice_documents(salon["B"]).filter(kind="invoice").count()
    uninvoiced = invoice_documents(salon["A"]).count()
    invoice_rate, payment_rate = invoices / seconds["B"], paid["A"] / seconds["A"]
    figure = Figure(
        "P10",
        "invoices issued/s (in-salon checkouts, tax profile) ÷ checkouts/s without invoicing",
        f"{invoice_rate:.1f} ÷ {payment_rate:.1f} per s (n={invoices}/{paid['A']}, "
        f"{plan.p10_clients} clients)",
        safe_ratio(invoice_rate, payment_rate),
        Goal(">=", 0.9),
        checks_ok=invoices == paid["B"] and uninvoiced == 0,
        evidence=f"{paid['B']} checkouts gave {invoices} invoices (the other salon: {uninvoiced} documents); "
        f"gunicorn's CPU per checkout {cpu['B'].per_unit_ms(paid['B'])} ÷ {cpu['A'].per_unit_ms(paid['A'])}; "
        f"machine CPU busy {cpu['B'].machine_busy()} ÷ {cpu['A'].machine_busy()}",
    )
    return figure, invoice_rate


def measure_p11(stack: Stack, invoice_rate: float | None) -> Figure:
    """The documents P10 issued, stamped and reported by the default worker (`einvoicing.report`, the real
    client) to the fake Fatoora, which checks each one's hash, signature, QR and chain: documents per second
    from the moment the worker starts consuming to the last `reported_at`, ÷ the rate P10 issued them at."""
    from django.db.models import Max
    from django.utils import timezone

    from backend.einvoicing.models import DocumentStatus

    documents = invoice_documents(stack.data.checkout.invoicing_salon_id)
    count = documents.count()
    worker = stack.default_cpu()
    progress(f"P11: the default worker reports {count} documents to the fake Fatoora")
    with worker.measuring():
        started = timezone.now()
        stack.einvoicing_consuming(True)
        wait_for(
            lambda: not documents.filter(status=DocumentStatus.ISSUED).exists(),
            timeout=300,
            what="every document of P10 reported",
            interval=0.05,
        )
    last = documents.aggregate(last=Max("reported_at"))["last"]
    reported = documents.filter(status=DocumentStatus.REPORTED).count()
    elapsed = ((last or started) - started).total_seconds()
    rate = reported / elapsed if elapsed > 0 else math.nan
    statuses = Counter(documents.values_list("status", flat=True))
    return Figure(
        "P11",
        "documents reported/s to the fake Fatoora by one worker ÷ invoices issued/s (P10)",
        f"{rate:.1f} ÷ {invoice_rate or math.nan:.1f} per s ({reported} of {count} documents, "
        "in chain order)",
        safe_ratio(rate, invoice_rate or 0),
        Goal(">=", 1),
        checks_ok=reported == count == len(stack.fatoora.documents()),
        evidence=f"document statuses {dict(statuses)}; the fake Fatoora accepted "
        f"{len(stack.fatoora.documents())}; the default worker's CPU per document "
        f"{worker.per_unit_ms(reported)}; machine CPU busy {worker.machine_busy()}",
    )


# --- the run ------------------------------------------------------------------------------------------


@dataclass
class Report:
    figures: list[Figure]
    statuses: dict[str, Counter]
    header: list[str]

    def server_errors(self) -> int:
        return sum(n for counts in self.statuses.values() for status, n in counts.items() if status >= 500)

    def unexpected(self) -> dict[str, Counter]:
        """Answers other than the one every request of a phase should get (`expected_status`)."""
        unexpected = {}
        for phase, counts in self.statuses.items():
            expected = expected_status(phase)
            if expected is not None and any(s != expected for s in counts):
                unexpected[phase] = Counter({s: n for s, n in counts.items() if s != expected})
        return unexpected

    def render(self) -> str:
        lines = [*self.header, "", render_table(TABLE_HEADERS, figure_rows(self.figures)), ""]
        lines += [f"{figure.id}: {figure.evidence}" for figure in self.figures if figure.evidence]
        lines.append(f"5xx responses: {self.server_errors()} (must be 0)")
        for phase, counts in self.unexpected().items():
            lines.append(f"unexpected answers in {phase}: {dict(counts)}")
        return "\n".join(lines)


def run(plan: Plan, redis_db: int, rows: Sequence[str] = ROW_IDS) -> Report:
    started, load_before = datetime.now(UTC), os.getloadavg()[0]  # someone else's load shows here
    stores = stores_from_env(os.environ, purpose="bench", redis_db=redis_db)
    progress(f"database {stores.database_name} (re-created), Redis database {stores.redis_db}")
    migrate_fresh(stores, bench_env(stores))
    clear_queues()
    data = make_data(plan)
    if INVOICE_ROWS & set(rows):
        data.checkout = make_checkout_data(plan)
    figures: dict[str, Figure] = {}
    # In this process, before the stack starts: a quiet machine.
    if "P3" in rows or "P3s" in rows:
        availability = availability_rows(plan)
        if "P3" in rows:
            figures["P3"] = measure_p3(availability)
        if "P3s" in rows:
            figures["P3s"] = measure_p3s(availability)
    if "P6" in rows or "P7" in rows:
        figures["P6"], figures["P7"] = measure_p6_p7(plan, data)
    if "V2" in rows or "V3" in rows:
        visit_rows = bench_visits.availability_visit_rows(plan.p3_runs)
        figures["V2"], figures["V3"] = (measure_visit_availability(visit_rows, items) for items in (2, 3))
    if "V4" in rows:
        progress(f"V4: {plan.v4_service_round} creates a round through the booking service, in process")
        data.visits = bench_visits.make_visit_scenario(plan.v4_starts_needed())
        data.visits.in_process = bench_visits.create_visit_throughput(
            plan.v4_service_round, plan.v4_service_repeats
        )
    header = [
        f"make bench, {started:%Y-%m-%d %H:%M} UTC: {machine_summary()}; load average before the "
        f"run {load_before:.2f}",
        versions(),
    ]
    if rows != ROW_IDS:
        header.append(f"rows: {', '.join(rows)} only (--rows)")
    statuses: dict[str, Counter] = {}
    if STACK_ROWS & set(rows):
        statuses = run_stack_rows(plan, data, stores, rows, figures)
        header.append(
            f"gunicorn {plan.web_workers} sync workers; notifications worker: threads pool x "
            f"{plan.notification_threads}; default worker: prefork x {plan.default_worker_processes}"
        )
    return Report([figures[row] for row in rows if row in figures], statuses, header)


def run_stack_rows(
    plan: Plan, data: Data, stores: Stores, rows: Sequence[str], figures: dict[str, Figure]
) -> dict[str, Counter]:
    """Brings the stack up, measures the rows that need it into `figures`, stops it; every answer's
    status by phase."""
    from backend.fakes import FakeUnifonic

    with contextlib.ExitStack() as cleanup:
        fake = cleanup.enter_context(FakeUnifonic(latency_ms=0))
        fatoora, zatca = None, {}
        if INVOICE_ROWS & set(rows):
            fatoora, zatca = cleanup.enter_context(onboarded_unit(data.checkout.invoicing_salon_id))
        env = bench_env(stores, sms_url=fake.url, sms_app_sid=fake.app_sid, **zatca)
        sock = cleanup.enter_context(listening_socket())
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        children = [
            gunicorn(workers=plan.web_workers, env=env, sock=sock, log_dir=stores.log_dir),
            celery_worker(
                "notifications",
                queues=NOTIFICATIONS_QUEUE,
                pool="threads",
                concurrency=plan.notification_threads,
                env=env,
                log_dir=stores.log_dir,
            ),
            celery_worker(
                "default",
                queues="default,payments,einvoicing",
                pool="prefork",
                concurrency=plan.default_worker_processes,
                env=env,
                log_dir=stores.log_dir,
            ),
        ]
        for child in children:
            cleanup.callback(child.stop)  # stopped in reverse order, whatever happens
            child.start()
        stack = Stack(plan, data, Load(base_url), fake, *children, fatoora=fatoora)
        progress(f"gunicorn on {base_url} ({plan.web_workers} sync workers); waiting for the stack")
        wait_stack_ready(base_url, stack.web, [stack.notifications, stack.default])
        progress("warming up")
        warm_up(stack)

        if "P8" in rows:  # first: reads only, and nothing booked yet keeps the machine quiet
            figures["P8"] = measure_p8(stack)
        if "P1" in rows:
            figures["P1"] = measure_p1(stack)
            stack.check_alive()
            wait_notifications_settled(timeout=120)
        if "P2" in rows or "P5" in rows or "V4" in rows:
            # P2, P5 and V4 compare web requests only: the notifications worker pauses, so that on a small
            # machine it does not take CPU from gunicorn for the bookings' messages and not for the
            # baseline's.
            stack.notifications_consuming(False)
            if "P2" in rows:
                figures["P2"] = measure_p2(stack)
            if "P5" in rows:
                figures["P5"] = measure_p5(stack)
            if "V4" in rows:
                figures["V4"] = measure_v4(stack)
            stack.notifications_consuming(True)
            stack.check_alive()
            progress("draining the messages of P2, P5 and V4")
            wait_notifications_settled(timeout=180)
        if "P9" in rows or "P9s" in rows:  # the waitlist (scripts/bench_waitlist.py): default worker
            waitlist = measure_waitlist(
                plan.waitlist, figure=Figure, goal=Goal, wait_for=wait_for, progress=progress
            )
            figures.update({row: waitlist[row] for row in ("P9", "P9s") if row in rows})
            stack.check_alive()
        if INVOICE_ROWS & set(rows):
            # Web requests only, as P2: no deliveries, and no reporting until P11 times it.
            stack.notifications_consuming(False)
            stack.einvoicing_consuming(False)
            figure, invoice_rate = measure_p10(stack)
            if "P10" in rows:
                figures["P10"] = figure
            stack.notifications_consuming(True)
            if "P11" in rows:
                figures["P11"] = measure_p11(stack, invoice_rate)
            else:
                stack.einvoicing_consuming(True)
            stack.check_alive()
            wait_notifications_settled(timeout=180)
        if "P4" in rows or "P4b" in rows:
            figure, no_op_rate = measure_p4(stack)
            if "P4" in rows:
                figures["P4"] = figure
            if "P4b" in rows:
                figures["P4b"] = measure_p4b(stack, no_op_rate)
        stack.check_alive()
        return stack.load.statuses


@contextlib.contextmanager
def onboarded_unit(salon_id: int) -> Iterator[tuple[Any, dict[str, str]]]:
    """The fake Fatoora, and the salon's unit onboarded with it from this process (key, CSR, compliance
    checks, production CSID), as a manager does through the API; the settings the stack needs to report
    to it (its URL, and the key that encrypts the unit's keys at rest)."""
    from cryptography.fernet import Fernet
    from django.conf import settings

    from backend.einvoicing.onboarding import unit_onboard
    from backend.fakes.fatoora import DEFAULT_OTP, FakeFatoora
    from backend.salons.models import Salon

    with FakeFatoora() as fatoora:
        zatca = {
            "ZATCA_BASE_URL": fatoora.url,
            "EINVOICING_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        }
        for name, value in zatca.items():
            setattr(settings, name, value)
        progress("onboarding P10's invoicing salon with the fake Fatoora")
        unit_onboard(salon=Salon.objects.get(pk=salon_id), otp=DEFAULT_OTP)
        yield fatoora, zatca


# --- entry point --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply request counts (P5 excepted)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("BENCH_REDIS_DB", DEFAULT_REDIS_DB)),
        help="Redis database number of the bench (default BENCH_REDIS_DB or 8)",
    )
    parser.add_argument(
        "--rows",
        type=parse_rows,
        default=ROW_IDS,
        help=f"comma-separated rows to measure (default all: {','.join(ROW_IDS)}); e.g. --rows P6,P7,P8",
    )
    args = parser.parse_args(argv)
    return run_to_exit_code(
        "bench", LOG_DIR, lambda: run(Plan().scaled(args.scale), args.redis_db, args.rows)
    )


if __name__ == "__main__":
    sys.exit(main())
