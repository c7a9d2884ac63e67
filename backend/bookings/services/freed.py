"""The booking side of freed time: every path that stops a booking occupying its time (a cancellation, an
expired hold, a reschedule away, a released waitlist offer) announces it in its own transaction."""

from backend.bookings.models import Booking
from backend.core.freed_time import freed_time_announce


def booking_time_freed(booking: Booking, *, reason: str) -> None:
    """Announces the local date of the time `booking` occupied until now (its salon's clock)."""
    local_day = booking.start.astimezone(booking.salon.tz).date()
    freed_time_announce(salon_id=booking.salon_id, first_day=local_day, last_day=local_day, reason=reason)
