"""`make load`: a headless locust run against the production stack on loopback, about 2 minutes, mixing
availability reads, bookings, reschedules, cancellations and payments; it reports the error rate (goal:
no 5xx) and the latency per endpoint.

It brings up the stack as `make bench` does (scripts/harness.py), against PostgreSQL and Redis but never
the dev or test data: a database `<DATABASE_URL's name>_load` (dropped and re-created at each start, left
afterwards for inspection) and Redis database LOAD_REDIS_DB (default 9) of REDIS_URL's server. Then:

- the fake Unifonic (SMS) and the fake Moyasar (payments, posting its webhooks to our API) in this process;
- gunicorn serving the real `config.wsgi` (production settings, except DEBUG off, plain HTTP, throttle
  rates too high to bite), 4 sync workers; the `notifications` worker (threads) and the `default` worker
  (prefork, queues default and payments) as in the Procfile;
- data: the demo salon (`seed_demo`), a 10-staff salon that takes payment on site and a 6-staff
  prepayment salon (bench_availability's `_salon_with_staff`), 200 customers with access tokens;
- locust, as a child process, on scripts/locustfile.py (the users and what they do), headless, on
  127.0.0.1 only, for `--duration` seconds.

Afterwards it waits for the outbox and the refunds to drain, checks the data (no two active bookings of
one staff member overlap; every booking a client got a 201 for exists, with the status the last answer
gave it; no booking exists that no client was told about; every booking read back as paid is paid) and
prints one table: per endpoint, requests, failures, 5xx, 4xx answers by design, median, p95 and p99 in
ms, and requests per second; then the 5xx verdict, the error rate and the checks. It exits 0 whatever
the figures, 1 only when the harness itself fails, 130 when interrupted.

    python scripts/devservices.py load [--duration 120] [--users 30]   # or `make load ARGS=...`
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
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

LOG_DIR = ROOT / ".dev" / "load"
LOCUSTFILE = ROOT / "scripts" / "locustfile.py"
DEFAULT_REDIS_DB = 9
WEB_WORKERS = 4  # as bench: the Procfile's class, compose's WEB_CONCURRENCY
NOTIFICATION_THREADS = 20
DEFAULT_WORKER_PROCESSES = 2
CUSTOMERS = 200
CUSTOMER_PHONE_PREFIX = "+96658"
CALLBACK_URL = "https://app.example.com/paid"
WEBHOOK_PATH = "/api/v1/payments/webhook/"
WEBHOOK_SECRET = "load-only-webhook-secret"  # noqa: S105 (the fake's, on loopback)
# Bookings land on one of the 27 days from tomorrow: inside the 30-day horizon, and enough free slots that
# collisions (409 slot_unavailable, by design) stay rare.
BOOKING_DAYS = 27
PREPAYMENT_POLICY = [{"hours_before": 24, "refund_percent": 100}, {"hours_before": 2, "refund_percent": 50}]
# gunicorn's access log with the request time in microseconds (%(D)s) at the end of each line.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)s'
FAKE_PREFIX = "POST fake Moyasar"  # the locustfile's name of the payer's 3-D Secure page (not our API)
HTTP_TIMEOUT = (5.0, 60.0)


def progress(message: str) -> None:
    print(f"load: {message}", file=sys.stderr, flush=True)


# --- pure helpers (tests/test_load.py) ---------------------------------------------------------------

OUTCOMES = ("ok", "by_design", "failed")


@dataclass(frozen=True)
class Record:
    """One request as the locustfile recorded it: its endpoint (method and template), the status (0: no
    answer), the time in ms, the error code of a 4xx/5xx body, the outcome and, if failed, why."""

    name: str
    status: int
    ms: float
    code: str = ""
    outcome: str = "ok"
    problem: str = ""

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Record:
        name, status, ms, code, outcome, problem = row
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        return cls(str(name), int(status), float(ms), str(code), str(outcome), str(problem))


@dataclass
class EndpointStats:
    name: str
    times: list[float] = field(default_factory=list)
    failures: int = 0
    server_errors: int = 0
    by_design: int = 0

    @property
    def requests(self) -> int:
        return len(self.times)

    def add(self, record: Record) -> None:
        self.times.append(record.ms)
        self.failures += record.outcome == "failed"
        self.by_design += record.outcome == "by_design"
        self.server_errors += record.status >= 500

    def merge(self, other: EndpointStats) -> None:
        self.times += other.times
        self.failures += other.failures
        self.server_errors += other.server_errors
        self.by_design += other.by_design

    def ms(self, q: float) -> str:
        return f"{percentile(self.times, q):.0f}" if self.times else "n/a"

    def row(self, seconds: float | None) -> list[str]:
        rate = f"{self.requests / seconds:.1f}" if seconds else "n/a"
        return [
            self.name,
            str(self.requests),
            str(self.failures),
            str(self.server_errors),
            str(self.by_design),
            self.ms(50),
            self.ms(95),
            self.ms(99),
            rate,
        ]


TABLE_HEADERS = (
    "endpoint",
    "requests",
    "failed",
    "5xx",
    "4xx by design",
    "median ms",
    "p95 ms",
    "p99 ms",
    "req/s",
)


def endpoint_stats(records: Iterable[Record]) -> list[EndpointStats]:
    """Per endpoint, in the order of the endpoint's name."""
    stats: dict[str, EndpointStats] = {}
    for record in records:
        stats.setdefault(record.name, EndpointStats(record.name)).add(record)
    return [stats[name] for name in sorted(stats)]


def total(stats: Iterable[EndpointStats], name: str = "total") -> EndpointStats:
    merged = EndpointStats(name)
    for each in stats:
        merged.merge(each)
    return merged


def error_rate(failures: int, requests: int) -> str:
    return f"{100 * failures / requests:.2f}%" if requests else "n/a"


def answer_counts(records: Iterable[Record], outcome: str) -> Counter:
    """(endpoint, status, code, problem) -> count, for the records of one outcome."""
    return Counter(
        (record.name, record.status, record.code, record.problem if outcome == "failed" else "")
        for record in records
        if record.outcome == outcome
    )


def describe_answers(counts: Counter, limit: int = 12) -> list[str]:
    lines = []
    for (name, status, code, problem), count in counts.most_common(limit):
        what = problem or f"{status} {code}".strip()
        lines.append(f"  {name}: {what} x {count}")
    if len(counts) > limit:
        lines.append(
            f"  ... and {len(counts) - limit} more kinds (every request: {LOG_DIR.name}/results.json)"
        )
    return lines


@dataclass(frozen=True)
class AccessLine:
    method: str
    path: str  # without the query string
    status: int
    ms: float


_ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ (?P<us>\d+)$'
)


def parse_access_log(lines: Iterable[str]) -> list[AccessLine]:
    """gunicorn's access lines in ACCESS_LOG_FORMAT; every other line of the log (startup, the app's own
    log records) is skipped."""
    parsed = []
    for line in lines:
        match = _ACCESS_LINE.search(line.rstrip())
        if match:
            parsed.append(
                AccessLine(
                    match["method"],
                    match["target"].split("?", 1)[0],
                    int(match["status"]),
                    int(match["us"]) / 1000,
                )
            )
    return parsed


_ID_SEGMENT = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)")


def path_template(path: str) -> str:
    """`/api/v1/bookings/17/cancel/` -> `/api/v1/bookings/{id}/cancel/` (numbers and UUIDs)."""
    return _ID_SEGMENT.sub("/{id}", path)


def access_stats(lines: Iterable[AccessLine], name: str) -> EndpointStats:
    """gunicorn's own view of some requests: every non-2xx/3xx answer counts as failed."""
    stats = EndpointStats(name)
    for line in lines:
        stats.times.append(line.ms)
        stats.failures += line.status >= 400
        stats.server_errors += line.status >= 500
    return stats


@dataclass
class Report:
    header: list[str]
    records: list[Record]
    seconds: float  # the locust run, from its start to its stop
    webhooks: EndpointStats  # the fake Moyasar's webhooks, as gunicorn answered them
    access_lines: list[AccessLine]
    checks: list[str] = field(default_factory=list)  # the data checks, "ok: ..." or "FAILED: ..."
    evidence: list[str] = field(default_factory=list)

    def render(self) -> str:
        api = [record for record in self.records if not record.name.startswith(FAKE_PREFIX)]
        fake = [record for record in self.records if record.name.startswith(FAKE_PREFIX)]
        stats = endpoint_stats(api)
        everything = total(stats, "all API requests from locust")
        rows = [each.row(self.seconds) for each in stats]
        rows.append(everything.row(self.seconds))
        rows.append(self.webhooks.row(self.seconds))
        for each in endpoint_stats(fake):
            each.name += " ²"
            rows.append(each.row(self.seconds))
        server_errors = everything.server_errors + self.webhooks.server_errors
        logged_5xx = sum(line.status >= 500 for line in self.access_lines)
        lines = [*self.header, "", render_table(TABLE_HEADERS, rows), ""]
        lines.append(
            f"¹ {WEBHOOK_PATH} is called by the fake Moyasar (3-D Secure completions, refunds); its times "
            "are gunicorn's, from its access log."
        )
        if fake:
            lines.append(
                f"² {FAKE_PREFIX}: the payer's 3-D Secure page on the fake, not our API; it answers once "
                "our webhook has answered."
            )
        by_design = answer_counts(api, "by_design")
        if by_design:
            lines.append("4xx answers by design (the contract's answer to a race, not an error):")
            lines += describe_answers(by_design)
        failed = answer_counts(self.records, "failed")
        if failed:
            lines.append("failed requests:")
            lines += describe_answers(failed)
        logged = Counter(
            (line.method, path_template(line.path), line.status)
            for line in self.access_lines
            if line.status >= 500
        )
        if logged:
            lines.append("5xx answers in gunicorn's access log (tracebacks in web.log):")
            lines += [
                f"  {method} {path}: {status} x {count}" for (method, path, status), count in logged.items()
            ]
        lines += self.evidence
        lines += self.checks
        lines.append(
            f"error rate: {error_rate(everything.failures, everything.requests)} ({everything.failures} "
            f"failed of {everything.requests} API requests from locust; 4xx answers by design are not errors)"
        )
        lines.append(
            f"5xx responses: {server_errors} (goal 0); gunicorn's access log: {len(self.access_lines)} "
            f"requests, {logged_5xx} 5xx"
        )
        return "\n".join(lines)


def consistency_lines(
    *,
    overlaps: Sequence[tuple[int, int]],
    told: Mapping[int, str],
    stored: Mapping[int, str],
    paid_told: Iterable[int],
    paid_stored: Iterable[int],
) -> list[str]:
    """The data checks: `told` is each booking's status as the last answer to a client gave it, `stored`
    the status of every booking of the run's customers in the database; `paid_*` the ids of bookings read
    back as paid / stored with a payment_status of paid (or refunded since)."""
    lines = []
    if overlaps:
        sample = ", ".join(f"{a}/{b}" for a, b in overlaps[:5])
        lines.append(
            f"FAILED: {len(overlaps)} pairs of active bookings of one staff member overlap ({sample})"
        )
    else:
        lines.append("ok: no two active bookings of one staff member overlap (SQL over the whole table)")
    missing = sorted(set(told) - set(stored))
    differ = sorted(
        number for number, status in told.items() if number in stored and stored[number] != status
    )
    unknown = sorted(set(stored) - set(told))
    if missing:
        lines.append(f"FAILED: {len(missing)} bookings answered 201 are not in the database ({missing[:5]})")
    if differ:
        sample = ", ".join(f"{number}: told {told[number]}, stored {stored[number]}" for number in differ[:5])
        lines.append(
            f"FAILED: {len(differ)} bookings are stored in another status than last answered ({sample})"
        )
    if unknown:
        lines.append(f"FAILED: {len(unknown)} bookings exist that no client got a 201 for ({unknown[:5]})")
    if not (missing or differ or unknown):
        lines.append(
            f"ok: the {len(told)} bookings answered 201 are all in the database, each in the status last "
            "answered, and there is no other"
        )
    unpaid = sorted(set(paid_told) - set(paid_stored))
    if unpaid:
        lines.append(
            f"FAILED: {len(unpaid)} bookings read back as paid are not paid in the database ({unpaid[:5]})"
        )
    else:
        lines.append(f"ok: the {len(set(paid_told))} bookings read back as paid are paid in the database")
    return lines


# --- data ---------------------------------------------------------------------------------------------


@dataclass
class Data:
    plan: dict[str, Any]
    customer_ids: list[int]


def _describe(salon: Any) -> dict[str, Any]:
    services = []
    for service in salon.services.filter(is_active=True).order_by("id"):
        staff = list(service.staff_members.filter(is_active=True).order_by("id").values_list("id", flat=True))
        if staff:
            services.append({"id": service.pk, "staff": staff})
    return {"id": salon.pk, "name": salon.name, "prepayment": salon.prepayment_required, "services": services}


def make_data() -> Data:
    """The demo salon, a 10-staff salon that takes payment on site, a 6-staff prepayment salon, and 200
    customers with access tokens; what the locustfile needs, as its plan."""
    from django.core.management import call_command
    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User
    from backend.bookings.management.commands.bench_availability import _salon_with_staff
    from backend.salons import services
    from backend.salons.management.commands.seed_demo import DEMO_SALON_NAME
    from backend.salons.models import Salon

    with transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        demo = Salon.objects.get(name=DEMO_SALON_NAME)
        on_site, _ = _salon_with_staff(staff_count=10)
        services.salon_update(salon=on_site, data={"name": "Load salon, pay on site"})
        prepaid, _ = _salon_with_staff(staff_count=6)
        services.salon_update(
            salon=prepaid,
            data={
                "name": "Load salon, prepayment",
                "prepayment_required": True,
                "cancellation_policy": PREPAYMENT_POLICY,
            },
        )
        customers = [User.objects.create_user(f"{CUSTOMER_PHONE_PREFIX}{n:07d}") for n in range(CUSTOMERS)]
    salons = [demo, on_site, prepaid]
    tomorrow = datetime.now(ZoneInfo(demo.timezone)).date() + timedelta(days=1)
    plan = {
        "salons": [_describe(salon) for salon in salons],
        "tokens": [str(AccessToken.for_user(customer)) for customer in customers],
        "first_day": tomorrow.isoformat(),
        "booking_days": BOOKING_DAYS,
        "callback_url": CALLBACK_URL,
    }
    return Data(plan=plan, customer_ids=[customer.pk for customer in customers])


# --- after the run: drain, check ----------------------------------------------------------------------


def drain(timeout: float) -> str:
    """Waits until the outbox has nothing pending and no refund is still requested; what is left."""
    from backend.notifications.models import Notification
    from backend.notifications.models import Status as NotificationStatus
    from backend.payments.models import Refund, RefundStatus

    started = time.monotonic()

    def settled() -> bool:
        pending = Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
        ).exists()
        return not pending and not Refund.objects.filter(status=RefundStatus.REQUESTED).exists()

    with contextlib.suppress(HarnessError):
        wait_for(settled, timeout=timeout, what="the outbox and the refunds to drain", interval=0.5)
        return f"drained {time.monotonic() - started:.0f} s after the run"
    return f"NOT drained {timeout:.0f} s after the run"


def _counts(model: Any) -> str:
    from django.db.models import Count

    rows = model.objects.values("status").annotate(n=Count("pk")).order_by("status")
    return ", ".join(f"{row['status']} {row['n']}" for row in rows) or "none"


def after_the_run(results: Mapping[str, Any], customer_ids: Sequence[int], drained: str) -> list[str]:
    from django.db import connection

    from backend.bookings.models import ACTIVE_STATUSES, Booking, PaymentStatus
    from backend.notifications.models import Notification
    from backend.payments.models import Payment, Refund

    table = Booking._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, b.id FROM {table} a JOIN {table} b
              ON a.staff_id = b.staff_id AND a.id < b.id
             AND tstzrange(a.start, a.occupied_until) && tstzrange(b.start, b.occupied_until)
             WHERE a.status = ANY(%s) AND b.status = ANY(%s)
             ORDER BY a.id, b.id
            """,
            [list(ACTIVE_STATUSES), list(ACTIVE_STATUSES)],
        )
        overlaps = cursor.fetchall()
    told = {int(number): seen["status"] for number, seen in results["bookings"].items()}
    paid_told = [int(number) for number, seen in results["bookings"].items() if seen["paid"]]
    bookings = Booking.objects.filter(customer_id__in=customer_ids)
    stored = dict(bookings.values_list("id", "status"))
    paid_stored = bookings.filter(
        payment_status__in=[PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED]
    ).values_list("id", flat=True)
    lines = consistency_lines(
        overlaps=overlaps, told=told, stored=stored, paid_told=paid_told, paid_stored=paid_stored
    )
    lines.append(
        f"after the run ({drained}): bookings {_counts(Booking)}; payments {_counts(Payment)}; "
        f"refunds {_counts(Refund)}; notifications {_counts(Notification)}"
    )
    return lines


# --- the run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    duration: int = 120
    users: int = 30
    spawn_rate: float = 5.0
    redis_db: int = DEFAULT_REDIS_DB


def load_env(stores: Stores, **kwargs: str) -> dict[str, str]:
    return stack_env(
        os.environ,
        stores,
        GUNICORN_CMD_ARGS=f"--access-logformat '{ACCESS_LOG_FORMAT}'",
        **kwargs,
    )


def warm_up(base_url: str, plan: Mapping[str, Any]) -> None:
    """Each gunicorn worker loads views and connections on its first requests: not measured."""
    urls = []
    for salon in plan["salons"]:
        service = salon["services"][0]["id"]
        urls += [
            f"/api/v1/salons/{salon['id']}/",
            f"/api/v1/salons/{salon['id']}/availability/?service={service}&date={plan['first_day']}",
        ]
    headers = {"Authorization": f"Bearer {plan['tokens'][0]}"}
    urls = [*urls, "/api/v1/bookings/?upcoming=true"] * 4

    def get(url: str) -> None:
        with contextlib.suppress(requests.RequestException):
            requests.get(base_url + url, headers=headers, timeout=HTTP_TIMEOUT)

    with ThreadPoolExecutor(max_workers=WEB_WORKERS * 2) as executor:
        list(executor.map(get, urls))


def run_locust(options: Options, base_url: str, plan_path: Path, results_path: Path, log_dir: Path) -> Child:
    env = dict(os.environ)
    env.update({"LOAD_PLAN": str(plan_path), "LOAD_RESULTS": str(results_path), "PYTHONUNBUFFERED": "1"})
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base_url,
        "--users", str(options.users), "--spawn-rate", f"{options.spawn_rate:g}",
        "--run-time", f"{options.duration}s", "--stop-timeout", "10", "--exit-code-on-error", "0",
        "--only-summary", "--loglevel", "INFO",
    ]  # fmt: skip
    return Child("locust", command, env=env, log_dir=log_dir).start()


def run(options: Options) -> Report:
    from backend.fakes import FakeUnifonic
    from backend.fakes.moyasar import DEFAULT_SECRET_KEY, FakeMoyasar

    started, load_before = datetime.now(UTC), os.getloadavg()
    stores = stores_from_env(os.environ, purpose="load", redis_db=options.redis_db)
    progress(f"database {stores.database_name} (re-created), Redis database {stores.redis_db}")
    migrate_fresh(stores, load_env(stores))
    clear_queues()
    data = make_data()
    log_dir = stores.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    plan_path, results_path = log_dir / "plan.json", log_dir / "results.json"
    plan_path.write_text(json.dumps(data.plan))
    results_path.unlink(missing_ok=True)

    with contextlib.ExitStack() as cleanup:
        sock = cleanup.enter_context(listening_socket())
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        sms = cleanup.enter_context(FakeUnifonic(latency_ms=0))
        moyasar = cleanup.enter_context(
            FakeMoyasar(
                webhook_url=base_url + WEBHOOK_PATH, webhook_secret=WEBHOOK_SECRET, webhook_timeout=30
            )
        )
        env = load_env(
            stores,
            sms_url=sms.url,
            sms_app_sid=sms.app_sid,
            MOYASAR_BASE_URL=moyasar.url,
            MOYASAR_SECRET_KEY=DEFAULT_SECRET_KEY,
            MOYASAR_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        web = gunicorn(workers=WEB_WORKERS, env=env, sock=sock, log_dir=log_dir)
        workers = [
            celery_worker(
                "notifications",
                queues="notifications",
                pool="threads",
                concurrency=NOTIFICATION_THREADS,
                env=env,
                log_dir=log_dir,
            ),
            celery_worker(
                "default",
                queues="default,payments",
                pool="prefork",
                concurrency=DEFAULT_WORKER_PROCESSES,
                env=env,
                log_dir=log_dir,
            ),
        ]
        for child in (web, *workers):
            cleanup.callback(child.stop)  # stopped in reverse order, whatever happens
            child.start()
        progress(f"gunicorn on {base_url} ({WEB_WORKERS} sync workers); waiting for the stack")
        wait_stack_ready(base_url, web, workers)
        warm_up(base_url, data.plan)

        progress(
            f"locust: {options.users} users (spawned {options.spawn_rate:g}/s) for {options.duration} s; "
            f"its log: {(log_dir / 'locust.log').relative_to(ROOT)}"
        )
        locust = run_locust(options, base_url, plan_path, results_path, log_dir)
        cleanup.callback(locust.stop)
        web_cpu = CpuMeter(lambda: child_pids(web.pid))
        workers_cpu = CpuMeter(lambda: [pid for w in workers for pid in (w.pid, *child_pids(w.pid))])
        # locust is gone when the run ends, so its CPU is read as our reaped children's (the stack's
        # processes are not reaped before the end).
        children_before = _reaped_children_cpu()
        with web_cpu.measuring(), workers_cpu.measuring():
            deadline = time.monotonic() + options.duration + 60
            while locust.process.poll() is None:
                for child in (web, *workers):
                    child.check_alive()
                if time.monotonic() > deadline:
                    raise HarnessError(f"locust still running {options.duration + 60} s after its start")
                time.sleep(1)
        if not results_path.exists():
            raise HarnessError(
                f"locust exited ({locust.process.returncode}) without results:\n{locust.tail()}"
            )
        results = json.loads(results_path.read_text())
        locust_cores = (_reaped_children_cpu() - children_before) / web_cpu.wall if web_cpu.wall else math.nan
        load_after = os.getloadavg()
        progress("waiting for the outbox and the refunds to drain")
        drained = drain(timeout=90)
        moyasar.wait_webhooks(timeout=30)
        deliveries = [delivery for event in moyasar.webhooks() for delivery in event["deliveries"]]
        for child in (web, *workers):
            child.check_alive()
    # Everything stopped: gunicorn's access log is complete.
    access = parse_access_log((log_dir / "web.log").read_text(errors="replace").splitlines())
    webhooks = access_stats((line for line in access if line.path == WEBHOOK_PATH), f"POST {WEBHOOK_PATH} ¹")
    records = [Record.from_row(row) for row in results["records"]]
    seconds = results["run"]["stopped"] - results["run"]["started"]
    header = [
        f"make load, {started:%Y-%m-%d %H:%M} UTC: {machine_summary()}; load average {load_before[0]:.2f} "
        f"before the run, {load_after[0]:.2f} at its end (1 min)",
        f"{versions()}; locust {_locust_version()}",
        f"gunicorn {WEB_WORKERS} sync workers; notifications worker: threads pool x {NOTIFICATION_THREADS}; "
        f"default worker: prefork x {DEFAULT_WORKER_PROCESSES}",
        f"locust: {options.users} users spawned at {options.spawn_rate:g}/s, {seconds:.0f} s; browser : "
        f"customer : paying customer = 3 : 4 : 2, think time 0.5-2 s; {len(data.plan['salons'])} salons, "
        f"{CUSTOMERS} customers",
    ]
    evidence = [
        f"CPU during the run, in cores: gunicorn's workers {web_cpu.cores()}, Celery workers "
        f"{workers_cpu.cores()}, locust {locust_cores:.2f}; the whole machine {web_cpu.machine_busy()} busy",
        f"fake Moyasar: {len(deliveries)} webhook deliveries, "
        f"{sum(delivery['status'] is None for delivery in deliveries)} without an answer",
    ]
    report = Report(header, records, seconds, webhooks, access, evidence=evidence)
    report.checks = after_the_run(results, data.customer_ids, drained)
    return report


def _reaped_children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _locust_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("locust")
    except PackageNotFoundError:
        return "?"


# --- entry point --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of load (default 120)")
    parser.add_argument("--users", type=int, default=30, help="concurrent locust users (default 30)")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second (default 5)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("LOAD_REDIS_DB", DEFAULT_REDIS_DB)),
        help="Redis database number of the load test (default LOAD_REDIS_DB or 9)",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.users < 1 or args.spawn_rate <= 0:
        parser.error("--duration, --users and --spawn-rate must be positive")
    options = Options(args.duration, args.users, args.spawn_rate, args.redis_db)
    return run_to_exit_code("load", LOG_DIR, lambda: run(options))


if __name__ == "__main__":
    sys.exit(main())
