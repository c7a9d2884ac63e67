"""Cancelling many bookings, each in its own transaction under its row lock (staff leaving, account
deletion; closures through backend/bookings/bulk_cancellations.py)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backend.bookings.in_the_way import bookings_overlapping
from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingItem
from backend.bookings.services.transitions import _cancel_locked
from backend.salons.models import StaffMember


@dataclass(frozen=True)
class BulkCancellation:
    cancelled: int
    refund_halalas: int  # the refunds of the bookings cancelled, together
    remaining: int  # upcoming bookings still left, for the next call


def _cancel_upcoming(
    bookings: QuerySet[Booking], *, by_salon: bool, reason: str, now: datetime, limit: int | None = None
) -> BulkCancellation:
    """Cancels the active bookings of `bookings` that have not started, soonest first, all or at most
    `limit`, each in its own transaction under its row lock. The filter is applied again under the lock,
    so a booking cancelled or moved away meanwhile is left alone, and a call after a failure does the rest."""
    upcoming = bookings.filter(status__in=ACTIVE_STATUSES, start__gt=now)
    soonest_first = upcoming.order_by("start", "pk").values_list("pk", flat=True)
    ids = list(soonest_first if limit is None else soonest_first[: limit + 1])
    cancelled = refunded = 0
    for booking_id in ids[:limit]:
        with transaction.atomic():
            booking = (
                upcoming.select_for_update(of=("self",))
                .select_related("salon", "service", "staff", "customer")
                .filter(pk=booking_id)
                .first()
            )
            if booking is None:
                continue
            refunded += _cancel_locked(booking, by_salon=by_salon, reason=reason, now=now).refund_halalas
            cancelled += 1
    remaining = upcoming.count() if limit is not None and len(ids) > limit else 0
    return BulkCancellation(cancelled=cancelled, refund_halalas=refunded, remaining=remaining)


def bookings_cancel_for_deleted_account(*, user, now: datetime | None = None) -> int:
    """Account deletion: the customer's future active bookings are cancelled as if they asked."""
    now = now or timezone.now()
    customer_bookings = Booking.objects.filter(customer=user)
    return _cancel_upcoming(customer_bookings, by_salon=False, reason="account deleted", now=now).cancelled


STAFF_CANCEL_BATCH = 50  # bookings a call: ~50 short transactions, about a second


def bookings_cancel_upcoming_of_staff(
    *,
    staff: StaffMember,
    reason: str = "",
    overlapping: tuple[datetime, datetime] | None = None,
    now: datetime | None = None,
    limit: int = STAFF_CANCEL_BATCH,
) -> BulkCancellation:
    """The salon cancels the bookings with an item of `staff` (any item of a visit, not only its first)
    that have not started (someone leaving), or only those whose item of theirs overlaps a (start, end)
    time (off sick for days; a time off's definition, in_the_way.py): each refunded in full and its
    customer told, as when the salon cancels one. The whole visit goes: its items are one booking, paid
    and refunded as one. At most `limit` a call, so that the manager's request stays short; `remaining`
    says how many the next call will find."""
    now = now or timezone.now()
    if overlapping is None:
        with_an_item = BookingItem.objects.filter(staff=staff).values("booking_id")
        staff_bookings = Booking.objects.filter(pk__in=with_an_item)
    else:
        staff_bookings = bookings_overlapping(staff_id=staff.pk, start=overlapping[0], end=overlapping[1])
    return _cancel_upcoming(staff_bookings, by_salon=True, reason=reason, now=now, limit=limit)
