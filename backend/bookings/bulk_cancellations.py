"""The salon cancels the bookings in a closure's or a time off's way, in the background
(docs/adr/0013-closures-over-several-days.md).

A closure or time off created with `cancel_bookings` records it on its row (`cancel_requested_at`); the
task `bookings.cancel_bookings_in_the_way` then cancels in batches, each booking in its own transaction
under its row lock, as when the salon cancels one: refunded in full through the refund path, its customer
told once (the outbox's dedupe key). Each batch records its progress on the row and the task enqueues the
next; the last finds nothing left and sets `cancel_finished_at`. Nothing is lost to a crash: a
cancellation whose progress is older than BULK_CANCEL_STALE_SECONDS is resumed by the beat sweep, and
every booking is checked again under its lock, so running a batch twice cancels nothing twice.

What is "in the way" is in_the_way.py's definition, the one `bookings_in_the_way` counts: bookings
starting on a closure's local dates; a staff member's bookings overlapping their time off."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backend.bookings.in_the_way import bookings_on_local_dates, bookings_overlapping
from backend.bookings.models import Booking

# The one bulk path of the booking services (staff leaving, account deletion use it too).
from backend.bookings.services.cancellations import _cancel_upcoming
from backend.core.tasks import enqueue_on_commit
from backend.salons.models import CancelsBookingsInTheWay, Closure, TimeOff

logger = logging.getLogger(__name__)

BATCH = 50  # bookings a task: ~50 short transactions, about a second
DEFAULT_REASONS = {"closure": "salon closed", "time_off": "staff member away"}  # when the row gives none


def _in_the_way_of_closure(closure: Closure) -> QuerySet[Booking]:
    return bookings_on_local_dates(salon=closure.salon, first=closure.date, last=closure.end_date)


def _in_the_way_of_time_off(time_off: TimeOff) -> QuerySet[Booking]:
    return bookings_overlapping(staff_id=time_off.staff_id, start=time_off.start, end=time_off.end)


# kind (the task's argument) -> the model, how its row is read, what is in its way.
KINDS: dict[str, tuple[type[CancelsBookingsInTheWay], str, Callable[..., QuerySet[Booking]]]] = {
    "closure": (Closure, "salon", _in_the_way_of_closure),
    "time_off": (TimeOff, "staff", _in_the_way_of_time_off),
}


def _pending(model: type[CancelsBookingsInTheWay]) -> QuerySet:
    return model.objects.filter(cancel_requested_at__isnull=False, cancel_finished_at__isnull=True)


def cancellation_enqueue(*, kind: str, row_id: int) -> None:
    """The next batch of a cancellation, after the current transaction commits (at once outside one)."""
    from worker.tasks.bookings import cancel_bookings_in_the_way

    enqueue_on_commit(
        cancel_bookings_in_the_way, kind, row_id, recovery="the bulk cancellation sweep resumes it"
    )


def bookings_cancel_in_the_way(
    *, kind: str, row_id: int, now: datetime | None = None, limit: int | None = None
) -> int | None:
    """Cancels, as the salon, at most `limit` (default BATCH) of the active bookings in the way of the
    closure or time off (`kind`, `row_id`) that have not started, soonest first. Returns how many are left
    for the next batch (0: its cancellation is done), or None when there is nothing to do (no such row, no
    cancellation asked, or done)."""
    now = now or timezone.now()
    model, related, in_the_way = KINDS[kind]
    row = _pending(model).select_related(related).filter(pk=row_id).first()
    if row is None:
        return None
    reason = row.reason or DEFAULT_REASONS[kind]
    result = _cancel_upcoming(in_the_way(row), by_salon=True, reason=reason, now=now, limit=limit or BATCH)
    progress = {"cancel_progress_at": now}
    if result.remaining == 0:
        progress["cancel_finished_at"] = now
    _pending(model).filter(pk=row_id).update(**progress)
    return result.remaining


def bulk_cancellations_sweep(*, now: datetime | None = None, limit: int = 100) -> int:
    """Beat, every minute: resumes the cancellations no batch moved on for BULK_CANCEL_STALE_SECONDS (a
    worker killed mid-batch, a lost message). Returns how many it re-enqueued."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.BULK_CANCEL_STALE_SECONDS)
    resumed = 0
    for kind, (model, _related, _in_the_way) in KINDS.items():
        with transaction.atomic():
            ids = list(
                _pending(model)
                .select_for_update(skip_locked=True)
                .filter(cancel_progress_at__lt=stale_before)
                .order_by("cancel_progress_at")
                .values_list("pk", flat=True)[:limit]
            )
            model.objects.filter(pk__in=ids).update(cancel_progress_at=now)
            for row_id in ids:
                cancellation_enqueue(kind=kind, row_id=row_id)
        resumed += len(ids)
    if resumed:
        logger.warning("bulk cancellation sweep resumed %s cancellations", resumed)
    return resumed
