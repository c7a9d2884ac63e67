"""The reminder rows that fall due before a confirmed booking's start."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.services.notify import booking_notify
from backend.notifications.models import Kind


def _reminder_schedule() -> list[tuple[str, str, timedelta]]:
    """(kind, booking field recording it, how long before the start), longest offset first."""
    return sorted(
        [
            (Kind.REMINDER_24H, "reminded_24h_for", timedelta(minutes=settings.REMINDER_24H_OFFSET_MINUTES)),
            (Kind.REMINDER_2H, "reminded_2h_for", timedelta(minutes=settings.REMINDER_2H_OFFSET_MINUTES)),
        ],
        key=lambda reminder: reminder[2],
        reverse=True,
    )


def booking_reminders_write(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Beat, every minute: writes the reminder rows that have fallen due. A confirmed booking gets the
    24 h reminder while it is between 24 h and 2 h away, and the 2 h one in its last 2 h, if it was booked
    (or moved) before that reminder's moment. Each reminder is recorded on the booking with the start it
    was for, so a missed beat run catches up, and a reschedule re-arms both. Cancelled bookings get none."""
    now = now or timezone.now()
    schedule = _reminder_schedule()
    written = 0
    for index, (kind, field, offset) in enumerate(schedule):
        next_offset = schedule[index + 1][2] if index + 1 < len(schedule) else timedelta(0)
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("salon", "service", "staff", "customer")
                .filter(
                    status=BookingStatus.CONFIRMED,
                    start__gt=now + next_offset,
                    start__lte=now + offset,
                    scheduled_at__lte=F("start") - offset,
                )
                .exclude(**{field: F("start")})
                .order_by("start")[:limit]
            )
            for booking in due:
                setattr(booking, field, booking.start)
                booking.save(update_fields=[field, "updated_at"])
                booking_notify(booking, kind, event=booking.start.isoformat())
        written += len(due)
    return written
