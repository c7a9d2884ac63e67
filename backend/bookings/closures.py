"""The salon cancels the bookings inside a closure, in the background (docs/adr/0013-closures-over-days.md).

A closure asked to (`cancel_bookings`) records it on its row (`cancel_requested_at`); the task
`bookings.cancel_closure_bookings` then cancels in batches, each booking in its own transaction under its
row lock, as when the salon cancels one: refunded in full through the refund path, its customer told once
(the outbox's dedupe key). Each batch records its progress on the row and the task enqueues the next; the
last finds nothing left and sets `cancel_finished_at`. Nothing is lost to a crash: a cancellation whose
progress is older than CLOSURE_CANCEL_STALE_SECONDS is resumed by the beat sweep, and every booking is
checked again under its lock, so running a batch twice cancels nothing twice."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

# The one bulk path of the booking services (staff leaving, account deletion use it too).
from backend.bookings.services import _cancel_upcoming
from backend.core.tasks import enqueue_on_commit
from backend.salons.models import Closure
from backend.salons.selectors import bookings_on_local_dates

logger = logging.getLogger(__name__)

CLOSURE_CANCEL_BATCH = 50  # bookings a task: ~50 short transactions, about a second
CLOSURE_CANCEL_REASON = "salon closed"  # the bookings' cancellation reason when the closure gives none


def _pending() -> QuerySet[Closure]:
    return Closure.objects.filter(cancel_requested_at__isnull=False, cancel_finished_at__isnull=True)


def closure_cancellation_enqueue(*, closure_id: int) -> None:
    """The next batch, after the current transaction commits (at once outside one)."""
    from worker.tasks.bookings import cancel_closure_bookings

    enqueue_on_commit(
        cancel_closure_bookings, closure_id, recovery="the closure cancellation sweep resumes it"
    )


def closure_cancel_bookings_batch(
    *, closure_id: int, now: datetime | None = None, limit: int | None = None
) -> int | None:
    """Cancels, as the salon, at most `limit` (default CLOSURE_CANCEL_BATCH) of the active bookings that
    start on the closure's dates and have not started yet, soonest first. Returns how many are left for the
    next batch (0: the closure's cancellation is done), or None when there is nothing to do (no such
    closure, none asked, or done)."""
    now = now or timezone.now()
    closure = _pending().select_related("salon").filter(pk=closure_id).first()
    if closure is None:
        return None
    inside = bookings_on_local_dates(salon=closure.salon, first=closure.date, last=closure.end_date)
    result = _cancel_upcoming(
        inside,
        by_salon=True,
        reason=closure.reason or CLOSURE_CANCEL_REASON,
        now=now,
        limit=limit or CLOSURE_CANCEL_BATCH,
    )
    progress = {"cancel_progress_at": now}
    if result.remaining == 0:
        progress["cancel_finished_at"] = now
    _pending().filter(pk=closure_id).update(**progress)
    return result.remaining


def closure_cancellations_sweep(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat, every minute: resumes the cancellations nobody moved on for CLOSURE_CANCEL_STALE_SECONDS (a
    worker killed mid-batch, a lost message). Returns how many it re-enqueued."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.CLOSURE_CANCEL_STALE_SECONDS)
    with transaction.atomic():
        ids = list(
            _pending()
            .select_for_update(skip_locked=True)
            .filter(cancel_progress_at__lt=stale_before)
            .order_by("cancel_progress_at")
            .values_list("pk", flat=True)[:limit]
        )
        Closure.objects.filter(pk__in=ids).update(cancel_progress_at=now)
        for closure_id in ids:
            closure_cancellation_enqueue(closure_id=closure_id)
    if ids:
        logger.warning("closure cancellation sweep resumed %s closures", len(ids))
    return len(ids)
