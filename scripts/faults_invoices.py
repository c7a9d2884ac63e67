"""`make faults --scenario invoices`: payments, invoices and their reporting to ZATCA under faults (issue 21).

The production stack on loopback as in the other scenarios (scripts/faults.py): gunicorn, the `einvoicing`
worker (prefork, the Procfile's queue), the `default` worker, the real `celery beat` (its minute
`einvoicing.sweep` is what recovers a unit whose task was lost), the fake Fatoora in this process (it checks
every document's hash, signature, QR, PIH chain and counter, and refuses a uuid it has already accepted
with 409), and a Redis server of its own. Four salons, each with a tax profile and an onboarded e-invoicing
unit, have started bookings; staff take their in-salon payments through `POST
.../bookings/{id}/checkout/` (each payment issues its invoice in the same transaction), at an even pace.
Meanwhile the einvoicing worker is SIGKILLed three times (preferably while a unit is being reported),
Redis is SIGKILLed and restarted, web workers' database connections are terminated mid-request, and
Fatoora is down for `--outage-seconds` (connections closed, then 503s).

It waits until no document is `issued` any more, then counts against what the fake accepted (its journal
of reporting calls): documents LOST (never accepted), DUPLICATED (accepted twice: the fake refuses a
second copy with 409, so a resend shows as a 409, not a second acceptance), OUT OF ORDER (per unit, the
accepted counters must run 1, 2, 3... and each PIH be the previous hash), and payments without their
invoice. Goals: 0 everywhere."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from faults import (
    HTTP_TIMEOUT,
    PRODUCTION,
    QUICK_FAULTS,
    FaultPlan,
    RedisServer,
    Report,
    Row,
    Timeline,
    beat_child,
    drive,
    format_counter,
    own_redis,
    paced,
    progress,
    settle_after_outage,
    versions,
    wait_ready,
    with_application_name,
)
from harness import (
    Child,
    celery_worker,
    gunicorn,
    listening_socket,
    machine_summary,
    migrate_fresh,
    stack_env,
)

PURPOSE = "faults"
SALONS = 4
TAX = {
    "legal_name": "صالون الأعطال للتجميل",
    "vat_number": "310122393500003",
    "cr_number": "1010010000",
    "address": {
        "street": "King Fahd Road",
        "building": "1234",
        "district": "Al Olaya",
        "city": "Riyadh",
        "postal_code": "12211",
    },
}
MANAGER_PHONE_PREFIX = "+96655"
CUSTOMER_PHONE_PREFIX = "+96654"
CHECKOUT_RETRY_DEADLINE = 150.0
RETRY_STATUSES = frozenset({0, 500, 502, 503, 504})
REPORTING_PATH = "/invoices/reporting/single"
QUIET_SECONDS = 5.0
BEAT_SWEEP_SECONDS = 60
INVOICE_PRODUCTION = {
    "EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS": "30",
    "EINVOICING_SWEEP_AFTER_SECONDS": "300",
    "CELERY_MAX_RETRY_COUNTDOWN_SECONDS": "600",
    "CELERY_TASK_SOFT_TIME_LIMIT": PRODUCTION["CELERY_TASK_SOFT_TIME_LIMIT"],
    "CELERY_TASK_TIME_LIMIT": PRODUCTION["CELERY_TASK_TIME_LIMIT"],
}


@dataclass(frozen=True)
class InvoicePlan(FaultPlan):
    """The payments of the run, and its faults (the einvoicing worker is the one killed)."""

    payments: int = 300
    clients: int = 4
    provider_latency_ms: int = 100

    @property
    def outage_provider(self) -> str:
        return "Fatoora"

    @classmethod
    def quick(cls) -> InvoicePlan:
        return cls(payments=80, **QUICK_FAULTS)


def invoice_overrides(outage_seconds: float) -> dict[str, str]:
    """The settings the run shortens so that it ends within minutes: the first retry after 5 s (30),
    doubling up to a third of the outage (600 s), the sweep's quiet time 30 s (300), and the task time
    limits (a unit's reporting claim is stale after the hard limit: a killed worker's unit waits that
    long)."""
    cap = max(30, min(600, round(outage_seconds / 3)))
    return {
        "EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS": "5",
        "EINVOICING_SWEEP_AFTER_SECONDS": "30",
        "CELERY_MAX_RETRY_COUNTDOWN_SECONDS": str(cap),
        "CELERY_TASK_SOFT_TIME_LIMIT": "20",
        "CELERY_TASK_TIME_LIMIT": "30",
    }


# --- counting (pure: tests/test_faults.py) -------------------------------------------------------------


@dataclass(frozen=True)
class IssuedDocument:
    unit: int
    counter: int
    invoice_hash: str
    previous_hash: str
    status: str


@dataclass(frozen=True)
class ReportCounts:
    documents: int
    by_status: dict[str, int]
    accepted: int  # documents the fake accepted at least once
    lost: int  # documents it never accepted
    duplicated: int  # documents it accepted more than once
    refused_again: int  # resends refused with 409 (already reported): no second copy at ZATCA
    unknown: int  # accepted documents that are none of ours
    out_of_order: int  # per unit, accepted documents whose counter is not the previous one's plus one
    chain_breaks: int  # documents whose PIH is not their predecessor's hash, or counters with gaps
    rejected_calls: int  # 400 answers from the fake (a chain or stamp check failed)
    # What to look at when the last three are not 0: each unit's counters in the order they were
    # accepted, where they stray from 1, 2, 3...; the (unit, counter) of each 400.
    strays: tuple[str, ...] = ()
    refusals: tuple[tuple[int, int] | None, ...] = ()


def reporting_calls(journal: Iterable[Mapping[str, Any]]) -> list[tuple[str, int | None, str | None]]:
    """The fake's reporting calls, in order: (uuid, HTTP status or None, fault)."""
    calls = []
    for entry in journal:
        if not str(entry.get("path", "")).endswith(REPORTING_PATH):
            continue
        body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
        calls.append((str(body.get("uuid", "")), entry.get("status"), entry.get("fault")))
    return calls


def count_reports(
    documents: Mapping[str, IssuedDocument], calls: Sequence[tuple[str, int | None, str | None]]
) -> ReportCounts:
    """`documents` by uuid; `calls` as `reporting_calls` gives them."""
    accepted: Counter[str] = Counter()
    order: dict[int, list[int]] = {}
    unknown = refused = rejected = 0
    refused_documents: list[tuple[int, int] | None] = []
    for uuid, status, fault in calls:
        if fault is not None or status is None:
            continue
        if status == 409:
            refused += 1
        elif status == 400:
            rejected += 1
            refused_documents.append(
                (documents[uuid].unit, documents[uuid].counter) if uuid in documents else None
            )
        elif status in (200, 202):
            if uuid not in documents:
                unknown += 1
                continue
            accepted[uuid] += 1
            document = documents[uuid]
            order.setdefault(document.unit, []).append(document.counter)
    out_of_order = 0
    for counters in order.values():
        out_of_order += sum(1 for n, counter in enumerate(counters) if counter != n + 1)
    chain_breaks = 0
    by_unit: dict[int, list[IssuedDocument]] = {}
    for document in documents.values():
        by_unit.setdefault(document.unit, []).append(document)
    for chain in by_unit.values():
        chain.sort(key=lambda d: d.counter)
        for n, document in enumerate(chain):
            previous = chain[n - 1] if n else None
            if document.counter != n + 1 or (previous and document.previous_hash != previous.invoice_hash):
                chain_breaks += 1
    return ReportCounts(
        documents=len(documents),
        by_status=dict(Counter(d.status for d in documents.values())),
        accepted=sum(1 for uuid in documents if accepted[uuid]),
        lost=sum(1 for uuid in documents if not accepted[uuid]),
        duplicated=sum(1 for n in accepted.values() if n > 1),
        refused_again=refused,
        unknown=unknown,
        out_of_order=out_of_order,
        chain_breaks=chain_breaks,
        rejected_calls=rejected,
        strays=tuple(
            f"unit {unit}: {counters}"
            for unit, counters in sorted(order.items())
            if counters != list(range(1, len(counters) + 1))
        ),
        refusals=tuple(refused_documents),
    )


@dataclass(frozen=True)
class PaymentChecks:
    bookings: int  # bookings the clients were to check out
    paid: int  # bookings the API said were paid (200, or 409 already_paid after an unanswered attempt)
    refused: int  # bookings left without that answer
    payments: int  # in-salon payments in the database
    without_invoice: int  # payments with no invoice
    invoices_without_payment: int


def invoice_rows(plan: InvoicePlan, pay: PaymentChecks, rep: ReportCounts) -> list[Row]:
    reported = rep.by_status.get("reported", 0) + rep.by_status.get("reported_with_warnings", 0)
    return [
        Row(
            "I1",
            "payments: bookings checked out / answered paid / in-salon payments in the database",
            f"{pay.bookings} / {pay.paid} / {pay.payments}",
            f"{plan.payments} / all / all",
            pay.bookings == pay.paid == pay.payments == plan.payments,
        ),
        Row(
            "I2",
            "invoices: documents issued; payments without an invoice; invoices without a payment",
            f"{rep.documents}; {pay.without_invoice}; {pay.invoices_without_payment}",
            f"{plan.payments}; 0; 0",
            rep.documents == pay.payments and pay.without_invoice == pay.invoices_without_payment == 0,
        ),
        Row(
            "I3",
            "documents at the end: reported / rejected / still issued",
            f"{reported} / {rep.by_status.get('rejected', 0)} / {rep.by_status.get('issued', 0)}",
            "all / 0 / 0",
            reported == rep.documents,
        ),
        Row(
            "I4",
            "LOST: documents Fatoora never accepted",
            f"{rep.lost}",
            "0",
            rep.lost == 0,
        ),
        Row(
            "I5",
            "DUPLICATED: documents Fatoora accepted more than once; accepted documents that are not ours",
            f"{rep.duplicated}; {rep.unknown} (resends refused as already reported: {rep.refused_again})",
            "0; 0",
            rep.duplicated == 0 and rep.unknown == 0,
        ),
        Row(
            "I6",
            "OUT OF ORDER: accepted documents whose counter does not follow the unit's previous one; "
            "breaks in our chains (counter gaps or repeats, PIH not the previous hash); 400s",
            f"{rep.out_of_order}; {rep.chain_breaks}; {rep.rejected_calls}",
            "0; 0; 0",
            rep.out_of_order == rep.chain_breaks == rep.rejected_calls == 0,
        ),
    ]


# --- the run -------------------------------------------------------------------------------------------


@dataclass
class InvoiceStack:
    plan: InvoicePlan
    redis: RedisServer
    fatoora: Any  # backend.fakes.fatoora.FakeFatoora
    web: Child
    einvoicing: Child
    default: Child
    beat: Child
    base_url: str
    database_dsn: str
    timeline: Timeline = field(default_factory=Timeline)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)
    kills_done: int = 0
    redis_killed_in_request: int = 0
    worker_down: threading.Event = field(default_factory=threading.Event)
    in_flight_at_kills: set[int] = field(default_factory=set)
    in_flight_label: str = "units being reported"
    last_kill: datetime | None = None  # a dead worker's claim stays until stale: not in flight
    in_flight_wait: float = 10.0  # a unit's reports come in short bursts after each payment
    outcomes: dict[int, str] = field(default_factory=dict)  # booking id -> the client's final outcome
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def outage_fake(self) -> Any:
        return self.fatoora

    @property
    def killed_worker(self) -> Child:
        return self.einvoicing

    def in_flight(self) -> list[int]:
        from backend.einvoicing.models import Unit

        claims = Unit.objects.filter(reporting_claimed_at__isnull=False)
        if self.last_kill is not None:
            claims = claims.filter(reporting_claimed_at__gt=self.last_kill)
        return list(claims.values_list("pk", flat=True))

    def check_alive(self) -> None:
        for child in (self.redis.child, self.web, self.default, self.beat):
            child.check_alive()
        if not self.worker_down.is_set():
            self.einvoicing.check_alive()


@dataclass(frozen=True)
class CheckoutJob:
    salon_id: int
    booking_id: int
    token: str


def make_checkouts(plan: InvoicePlan) -> list[CheckoutJob]:
    """SALONS salons, each with a tax profile and an onboarded unit (against the fake Fatoora), a staff
    member, and started, confirmed, unpaid bookings; the manager's token checks them out."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User
    from backend.bookings.models import Booking, BookingStatus
    from backend.einvoicing.onboarding import unit_onboard
    from backend.einvoicing.profiles import tax_profile_set
    from backend.fakes.fatoora import DEFAULT_OTP
    from backend.salons import services

    per_unit: list[list[CheckoutJob]] = []
    now = timezone.now()
    per_salon = -(-plan.payments // SALONS)
    for number in range(SALONS):
        with transaction.atomic():
            manager_phone = f"{MANAGER_PHONE_PREFIX}{number:07d}"
            salon = services.salon_create(
                name=f"Faults salon {number}", city="Riyadh", manager_phone=manager_phone
            )
            service = services.service_create(
                salon=salon, name="Haircut", duration_minutes=30, price_halalas=11500, buffer_minutes=0
            )
            staff = services.staff_create(salon=salon, name=f"Staff {number}", service_ids=[service.id])
            customer = User.objects.create_user(f"{CUSTOMER_PHONE_PREFIX}{number:07d}")
            tax_profile_set(salon=salon, data=TAX)
            bookings = Booking.objects.bulk_create(
                Booking(
                    salon=salon,
                    service=service,
                    staff=staff,
                    customer=customer,
                    start=now - timedelta(hours=n + 1),
                    end=now - timedelta(hours=n + 1) + timedelta(minutes=30),
                    occupied_until=now - timedelta(hours=n + 1) + timedelta(minutes=30),
                    status=BookingStatus.CONFIRMED,
                    price_halalas=service.price_halalas,
                )
                for n in range(per_salon)
            )
        unit_onboard(salon=salon, otp=DEFAULT_OTP)
        token = str(AccessToken.for_user(User.objects.get(phone_number=manager_phone)))
        per_unit.append([CheckoutJob(salon.pk, booking.pk, token) for booking in bookings])
    # Interleaved across the salons, as payments come in.
    return [job for turn in zip(*per_unit, strict=True) for job in turn][: plan.payments]


def _checkout_once(stack: InvoiceStack, session: requests.Session, job: CheckoutJob) -> tuple[int, str]:
    url = f"{stack.base_url}/api/v1/manage/salons/{job.salon_id}/bookings/{job.booking_id}/checkout/"
    headers = {"Authorization": f"Bearer {job.token}", "Accept-Language": "en"}
    try:
        response = session.post(url, json={"method": "cash"}, headers=headers, timeout=HTTP_TIMEOUT)
    except requests.RequestException:
        return 0, ""
    code = ""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        code = str(response.json().get("error", {}).get("code", ""))
    return response.status_code, code


def checkout(stack: InvoiceStack, session: requests.Session, job: CheckoutJob) -> None:
    """One in-salon payment as the staff app makes it: retried after no answer or a 5xx. The endpoint
    takes no Idempotency-Key; a retry answered 409 `already_paid` means an earlier attempt went through."""
    deadline = time.monotonic() + CHECKOUT_RETRY_DEADLINE
    retried = False
    while not stack.stop.is_set():
        status, code = _checkout_once(stack, session, job)
        label = f"{status or 'no answer'}{f' {code}' if code else ''}"
        with stack.lock:
            stack.answers[label] += 1
        if status == 200 or (retried and status == 409 and code == "already_paid"):
            outcome = "paid"
        elif status in RETRY_STATUSES and time.monotonic() < deadline:
            retried = True
            stack.stop.wait(1.0)
            continue
        else:
            outcome = label
        with stack.lock:
            stack.outcomes[job.booking_id] = outcome
        return


def checkout_traffic(stack: InvoiceStack, jobs: Sequence[CheckoutJob]) -> None:
    paced(stack, jobs, stack.plan.clients, lambda session, _index, job: checkout(stack, session, job))


def all_reported() -> bool:
    from backend.einvoicing.models import Document, DocumentStatus

    return not Document.objects.filter(status=DocumentStatus.ISSUED).exists()


def measure(stack: InvoiceStack, jobs: Sequence[CheckoutJob], settled: bool, settle_seconds: float) -> Report:
    from backend.einvoicing.models import Document
    from backend.payments.models import InSalonPayment

    documents = {
        str(uuid): IssuedDocument(unit, counter, invoice_hash, previous_hash, status)
        for uuid, unit, counter, invoice_hash, previous_hash, status in Document.objects.values_list(
            "uuid", "unit_id", "counter", "invoice_hash", "previous_hash", "status"
        )
    }
    journal = stack.fatoora.journal()
    calls = reporting_calls(journal)
    reports = count_reports(documents, calls)
    invoiced = set(
        Document.objects.filter(in_salon_payment__isnull=False).values_list("in_salon_payment", flat=True)
    )
    payment_ids = set(InSalonPayment.objects.values_list("pk", flat=True))
    payments = PaymentChecks(
        bookings=len(jobs),
        paid=sum(1 for outcome in stack.outcomes.values() if outcome == "paid"),
        refused=sum(1 for outcome in stack.outcomes.values() if outcome != "paid"),
        payments=len(payment_ids),
        without_invoice=len(payment_ids - invoiced),
        invoices_without_payment=Document.objects.filter(in_salon_payment__isnull=True).count(),
    )
    rows = invoice_rows(stack.plan, payments, reports)
    outcomes: Counter[str] = Counter()
    for _uuid, status, fault in calls:
        outcomes[
            "connection closed" if fault == "down" else f"{fault}: {status}" if fault else str(status)
        ] += 1
    attempts = Counter(Document.objects.values_list("attempts", flat=True))
    evidence = [
        f"Fatoora reporting calls: {format_counter(outcomes)}",
        "  409s are resends of a document Fatoora had already accepted (a worker killed before it recorded "
        "the answer): counted as reported, as ZATCA's own 409 is",
        f"reporting attempts per document: {', '.join(f'{n} x {c}' for n, c in sorted(attempts.items()))}",
        f"units being reported when the worker was SIGKILLed: {sorted(stack.in_flight_at_kills)}",
        f"accepted out of order (counters as accepted): {'; '.join(reports.strays) or 'none'}; 400s for "
        f"(unit, counter): {list(reports.refusals) or 'none'}",
        f"documents {'all reported' if settled else 'NOT all reported'} {settle_seconds:.0f} s after Fatoora "
        "came back",
        f"checkout answers: {format_counter(stack.answers)}",
        f"final outcome per booking: {format_counter(Counter(stack.outcomes.values()))}",
    ]
    return Report([], rows, list(stack.timeline.events), evidence)


def run_invoices(plan: InvoicePlan, log_dir: Path) -> Report:
    from cryptography.fernet import Fernet

    from backend.fakes.fatoora import FakeFatoora

    started_at, load_before = datetime.now(UTC), os.getloadavg()[0]
    overrides = invoice_overrides(plan.outage_seconds)
    with contextlib.ExitStack() as cleanup:
        redis, stores = own_redis(cleanup, log_dir)
        fatoora = cleanup.enter_context(
            FakeFatoora(latency_ms=plan.provider_latency_ms, journal_limit=10_000_000)
        )
        encryption_key = Fernet.generate_key().decode()

        def env_for(name: str) -> dict[str, str]:
            env = stack_env(
                os.environ,
                stores,
                DATABASE_URL=with_application_name(stores.database_url, f"faults-{name}"),
                ZATCA_BASE_URL=fatoora.url,
                EINVOICING_KEY_ENCRYPTION_KEY=encryption_key,
                **overrides,
            )
            env["REMAP_SIGTERM"] = "SIGQUIT"
            return env

        migrate_fresh(stores, env_for("harness"))
        progress(f"onboarding {SALONS} salons against the fake Fatoora")
        jobs = make_checkouts(plan)
        sock = cleanup.enter_context(listening_socket())
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        web = gunicorn(workers=2, env=env_for("web"), sock=sock, log_dir=log_dir)
        einvoicing = celery_worker(
            "einvoicing", queues="einvoicing", pool="prefork", concurrency=2, env=env_for("einvoicing"),
            log_dir=log_dir,
        )  # fmt: skip
        default = celery_worker(
            "default", queues="default,payments,notifications", pool="prefork", concurrency=2,
            env=env_for("default"), log_dir=log_dir,
        )  # fmt: skip
        beat = beat_child(env_for("beat"), log_dir)
        for child in (web, einvoicing, default, beat):
            cleanup.callback(child.stop)
            child.start()
        stack = InvoiceStack(
            plan, redis, fatoora, web, einvoicing, default, beat, base_url,
            with_application_name(stores.database_url, "faults-harness-pg"),
        )  # fmt: skip
        cleanup.callback(stack.stop.set)
        progress(f"gunicorn on {base_url}; waiting for the stack")
        wait_ready(stack, [einvoicing, default], "einvoicing.sweep")
        header = [
            f"make faults --scenario invoices, {started_at:%Y-%m-%d %H:%M} UTC: {machine_summary()}; load "
            f"average before the run {load_before:.2f}",
            versions(redis),
            "gunicorn 2 sync workers; einvoicing worker: prefork x 2; default worker: prefork x 2; "
            "celery beat (redbeat, einvoicing.sweep every 60 s); Redis with noeviction + AOF; "
            f"fake Fatoora at {plan.provider_latency_ms} ms plus its checks",
            f"{plan.payments} in-salon payments (POST .../checkout/) over {plan.traffic_seconds:g} s across "
            f"{SALONS} salons, each an onboarded unit: one invoice each, reported by the workers",
            "settings shortened to end within minutes (production value in brackets): "
            + ", ".join(f"{k}={v} ({INVOICE_PRODUCTION[k]})" for k, v in overrides.items()),
            "unchanged: CELERY_VISIBILITY_TIMEOUT_SECONDS 3600 (a killed worker's tasks, its retries "
            "waiting their countdown too, come back only through the sweep), ZATCA_TIMEOUT_SECONDS 15, "
            "the beat schedule",
        ]
        drive(
            stack,
            {"checkouts": lambda: checkout_traffic(stack, jobs)},
            "traffic done: every checkout has its final answer",
            "faults done; waiting for every document to be reported",
        )
        budget = (
            int(overrides["CELERY_MAX_RETRY_COUNTDOWN_SECONDS"])
            + int(overrides["CELERY_TASK_TIME_LIMIT"])
            + int(overrides["EINVOICING_SWEEP_AFTER_SECONDS"])
            + BEAT_SWEEP_SECONDS
            + 120
        )
        settled, settle_seconds = settle_after_outage(
            stack,
            budget,
            all_reported,
            "every document reported",
            f"documents still issued {budget} s after Fatoora came back",
        )
        time.sleep(QUIET_SECONDS)
        stack.check_alive()
        report = measure(stack, jobs, settled, settle_seconds)
        report.header = header
        return report
