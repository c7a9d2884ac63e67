"""Reporting a unit's documents to ZATCA, in chain order, by the workers (`einvoicing.report`).

- One reporter per unit: the unit is claimed with a conditional UPDATE of `reporting_claimed_at` (a claim
  older than CELERY_TASK_TIME_LIMIT belongs to a dead worker). The unit's row lock is not held during the
  calls: issuing takes it, and taking money must not wait on ZATCA.
- Documents go out oldest counter first; a document still `issued` stops the run on a retryable failure
  (429, 5xx, 413, timeouts: backoff doubling from EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS up to
  CELERY_MAX_RETRY_COUNTDOWN_SECONDS), so a later one never overtakes it. A 409 counts as reported, a 400
  is recorded `rejected` with ZATCA's messages and the chain goes on (ZATCA chains to rejected documents).
- A run that finds the unit inside that backoff (`report_not_before`) returns `waiting` without calling
  ZATCA: during an outage each payment enqueues a run for its unit, and each starting its own retry sequence
  multiplied the calls. The run whose failure set the backoff is the one that retries when it ends (the
  task's own retry), so one sequence per unit goes on; a lost one is the sweep's, which skips the backoff.
- Documents are stamped here, a batch at a time in chain order and saved in one transaction, before they
  are reported (issuing leaves the stamp out of the payment; a read may have stamped one first:
  backend/einvoicing/stamping.py).
- One run queued per unit, not one per payment: issuing queues a run only when the unit's `report_queued`
  is false and sets it; a run clears it before it claims the unit and reads, and checks for waiting
  documents again after releasing its claim, so a document that came in while a run held the unit (its
  own run answered `busy`) is picked up by a next run rather than left to the sweep.
- The beat sweep (`units_sweep`) re-enqueues onboarded units with documents still `issued`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from backend.core.http import ProviderError
from backend.einvoicing import client, keys
from backend.einvoicing.issuing import enqueue_report
from backend.einvoicing.models import Document, DocumentStatus, Unit, UnitStatus
from backend.einvoicing.stamping import STAMP_ERRORS, documents_stamped_in_order

logger = logging.getLogger(__name__)

REPORT_BATCH = 50
STATUSES = {
    client.REPORTED: DocumentStatus.REPORTED,
    client.REPORTED_WITH_WARNINGS: DocumentStatus.REPORTED_WITH_WARNINGS,
    client.REJECTED: DocumentStatus.REJECTED,
}


class ReportStatus(StrEnum):
    """What one run of `unit_report` came to."""

    DONE = "done"  # nothing left waiting
    MORE = "more"  # a full batch reported: call again
    BUSY = "busy"  # another run holds the unit
    NOT_ONBOARDED = "not_onboarded"
    RETRY = "retry"  # a retryable failure: run again in `retry_in` seconds
    WAITING = "waiting"  # inside the unit's backoff: nothing called; the run that set it retries
    FAILED = "failed"


@dataclass(frozen=True)
class ReportOutcome:
    status: ReportStatus
    reported: int = 0
    retry_in: float | None = None
    waits: float | None = None  # WAITING: seconds until the unit's backoff ends


def _claim(unit_id: int, now: datetime) -> bool:
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return bool(
        Unit.objects.filter(pk=unit_id)
        .filter(Q(reporting_claimed_at__isnull=True) | Q(reporting_claimed_at__lt=stale))
        .update(reporting_claimed_at=now)
    )


def _record(document: Document, result: client.Result) -> None:
    status = STATUSES[result.status]
    if status == DocumentStatus.REJECTED:
        logger.error("document %s rejected by ZATCA: %s", document.number, result.errors)
    Document.objects.filter(pk=document.pk).update(
        status=status,
        messages=[*result.errors, *result.warnings],
        attempts=document.attempts + 1,
        last_error="",
        reported_at=timezone.now() if status != DocumentStatus.REJECTED else None,
        updated_at=timezone.now(),
    )


def _retry_delay(attempts: int) -> float:
    base = settings.EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS
    return float(min(settings.CELERY_MAX_RETRY_COUNTDOWN_SECONDS, base * 2 ** max(attempts - 1, 0)))


def _failure(unit: Unit, document: Document, error: Exception, *, retryable: bool) -> ReportOutcome:
    attempts = document.attempts + 1
    Document.objects.filter(pk=document.pk).update(
        attempts=attempts, last_error=str(error)[:1000], updated_at=timezone.now()
    )
    if retryable:
        delay = _retry_delay(attempts)
        Unit.objects.filter(pk=unit.pk).update(report_not_before=timezone.now() + timedelta(seconds=delay))
        logger.warning("document %s not reported (attempt %s): %r", document.number, attempts, error)
        return ReportOutcome(ReportStatus.RETRY, retry_in=delay)
    logger.error("document %s cannot be reported: %r", document.number, error)
    return ReportOutcome(ReportStatus.FAILED)


def _report_documents(unit: Unit) -> ReportOutcome:
    credentials = client.Credentials(unit.production_token, keys.decrypt_secret(unit.production_secret))
    reported = 0
    waiting = Document.objects.filter(unit=unit, status=DocumentStatus.ISSUED).order_by("counter")
    documents, stamp_error = documents_stamped_in_order(unit, list(waiting[:REPORT_BATCH]))
    for document in documents:
        try:
            result = client.report(
                credentials=credentials,
                invoice_hash=document.invoice_hash,
                uuid=str(document.uuid),
                xml=bytes(document.signed_xml),
            )
        except ProviderError as error:
            outcome = _failure(unit, document, error, retryable=error.retryable)
            return ReportOutcome(outcome.status, reported, outcome.retry_in)
        _record(document, result)
        reported += 1
    if stamp_error is not None:
        raise stamp_error  # the documents before it are reported; this one holds the chain back
    Unit.objects.filter(pk=unit.pk).update(report_not_before=None)
    return ReportOutcome(ReportStatus.DONE, reported)


def _backoff_left(unit_id: int, now: datetime) -> float | None:
    until = Unit.objects.filter(pk=unit_id).values_list("report_not_before", flat=True).first()
    return (until - now).total_seconds() if until and until > now else None


def unit_report(*, unit_id: int) -> ReportOutcome:
    """Reports up to REPORT_BATCH of the unit's waiting documents, oldest first (`more`: call again;
    `waiting`: the unit is inside a retry's backoff and nothing was called)."""
    now = timezone.now()
    # Read before claiming: a run that only waits must not make the retrying run find the unit busy.
    waits = _backoff_left(unit_id, now)
    if waits is not None:
        return ReportOutcome(ReportStatus.WAITING, waits=waits)  # `report_queued` stays: the retry clears it
    # Before the claim and the read: a document committed after this queues a run of its own, one
    # committed before it is read by this run, or by the holder of the claim (it checks after releasing).
    Unit.objects.filter(pk=unit_id, report_queued=True).update(report_queued=False)
    if not _claim(unit_id, now):
        return ReportOutcome(ReportStatus.BUSY)
    try:
        unit = Unit.objects.get(pk=unit_id)
        if unit.status != UnitStatus.ONBOARDED:
            return ReportOutcome(ReportStatus.NOT_ONBOARDED)
        outcome = _report_documents(unit)
    except STAMP_ERRORS:
        logger.exception("unit %s: documents cannot be stamped or sent", unit_id)
        return ReportOutcome(ReportStatus.FAILED)
    finally:
        Unit.objects.filter(pk=unit_id).update(reporting_claimed_at=None)
    if outcome.status != ReportStatus.DONE:
        return outcome
    # After the release: a run that found the unit busy before it did has ended already, and what it was
    # queued for is here (a full batch, or documents that came in meanwhile).
    waiting = Document.objects.filter(unit_id=unit_id, status=DocumentStatus.ISSUED).exists()
    return ReportOutcome(ReportStatus.MORE, outcome.reported) if waiting else outcome


def units_sweep(*, now: datetime | None = None) -> int:
    """Beat: enqueues every onboarded unit with documents still `issued` for longer than
    EINVOICING_SWEEP_AFTER_SECONDS (their task was lost, or failed for good), except units waiting out a
    retry's backoff. Returns how many were enqueued."""
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.EINVOICING_SWEEP_AFTER_SECONDS)
    units = (
        Unit.objects.filter(status=UnitStatus.ONBOARDED)
        .filter(Q(report_not_before__isnull=True) | Q(report_not_before__lte=now))
        .filter(documents__status=DocumentStatus.ISSUED, documents__issued_at__lte=due)
        .distinct()
        .values_list("pk", flat=True)
    )
    unit_ids = list(units)
    for unit_id in unit_ids:
        enqueue_report(unit_id)
    return len(unit_ids)
