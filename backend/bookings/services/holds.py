"""Unpaid holds past their time: expired by the beat sweep, or at once under a staff member's lock."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.bookings.models import Booking, BookingItem, BookingStatus
from backend.bookings.services.freed import booking_time_freed
from backend.bookings.services.notify import booking_notify
from backend.notifications.models import Kind


def _expire(bookings) -> int:
    """Expires the given held bookings (already locked by the caller), each with its message."""
    count = 0
    for booking in bookings:
        booking.status = BookingStatus.EXPIRED
        booking.save(update_fields=["status", "updated_at"])
        booking_notify(booking, Kind.BOOKING_EXPIRED)
        booking_time_freed(booking, reason="hold_expired")
        count += 1
    return count


def _stale_holds(now: datetime):
    return (
        Booking.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("salon", "service", "staff", "customer")
        .filter(status=BookingStatus.PENDING_PAYMENT, hold_expires_at__lte=now)
    )


def _expire_stale_holds_of(*, staff_id: int, now: datetime) -> None:
    """Under the staff row lock: holds past their time stop blocking now, not at the next sweep (the
    availability list already treats them as free)."""
    _expire(
        _stale_holds(now).filter(pk__in=BookingItem.objects.filter(staff_id=staff_id).values("booking_id"))
    )


def booking_expire_holds(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute: unpaid holds past `hold_expires_at` become `expired`, freeing their slots."""
    now = now or timezone.now()
    with transaction.atomic():
        return _expire(list(_stale_holds(now).order_by("hold_expires_at")[:limit]))
