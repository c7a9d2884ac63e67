"""Waitlist offers on the booking side: an offer is a booking row in status `offered` (made by
`booking_offer_hold`, the create path), accepted into a booking or released, each under the booking's row
lock. The waitlist app decides who gets an offer; these decide what the held slot becomes."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.selectors import start_check
from backend.bookings.services.create import _lock_staff
from backend.bookings.services.freed import booking_time_freed
from backend.bookings.services.notify import booking_notify
from backend.bookings.services.transitions import booking_lock
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind


def offer_expired_error() -> ApplicationError:
    return ApplicationError(
        "offer_expired", _("This offer has lapsed; the time is no longer held for you."), status=409
    )


def _release_locked(booking: Booking, *, reason: str) -> None:
    booking.status = BookingStatus.EXPIRED
    booking.save(update_fields=["status", "updated_at"])
    booking_time_freed(booking, reason=reason)


def booking_offer_release(*, booking_id: int, reason: str = "offer_released") -> bool:
    """An offer declined, lapsed or withdrawn, in the caller's transaction: the held slot is freed (the row
    becomes `expired`) and the freed time announced, so the next waiting customer gets it. False when it
    was no longer an offer."""
    booking = booking_lock(booking_id=booking_id)
    if booking.status != BookingStatus.OFFERED:
        return False
    _release_locked(booking, reason=reason)
    return True


def _still_bookable(booking: Booking, *, now: datetime) -> bool:
    """Whether the held start is still one the engine offers (leaving the hold itself out): time off, a
    closure, or the staff member leaving or dropping the service may have come since the offer."""
    try:
        check = start_check(
            salon=booking.salon,
            service=booking.service,
            start=booking.start,
            staff_id=booking.staff_id,
            now=now,
            ignore_booking_id=booking.pk,
        )
    except (ValidationError, ApplicationError):
        return False
    return check.reasons.get(booking.staff_id) is None


def booking_offer_accept(*, booking_id: int, now: datetime | None = None) -> Booking | None:
    """The customer takes the offered slot: `confirmed`, or `pending_payment` with a fresh payment hold at
    a prepayment salon, with the same message as a booking made directly. None when the offer has lapsed
    or the salon's hours no longer hold the slot (time off or a closure came in the way): the hold is
    released then, in the caller's transaction, and the caller answers 409 `offer_expired`."""
    now = now or timezone.now()
    booking = booking_lock(booking_id=booking_id)
    if booking.status != BookingStatus.OFFERED:
        return None
    salon = booking.salon
    _lock_staff(salon=salon, staff_id=booking.staff_id)
    if booking.hold_expires_at <= now or not _still_bookable(booking, now=now):
        _release_locked(booking, reason="offer_lapsed")
        return None
    if salon.prepayment_required:
        booking.status = BookingStatus.PENDING_PAYMENT
        booking.hold_expires_at = now + timedelta(minutes=salon.hold_minutes)
    else:
        booking.status = BookingStatus.CONFIRMED
        booking.hold_expires_at = None
    booking.scheduled_at = now
    booking.save(update_fields=["status", "hold_expires_at", "scheduled_at", "updated_at"])
    if booking.status == BookingStatus.CONFIRMED:
        booking_notify(booking, Kind.BOOKING_CONFIRMED)
    return booking
