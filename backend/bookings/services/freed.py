"""The booking side of freed time: every path that stops a booking occupying its time (a cancellation, an
expired hold, a reschedule away, a released waitlist offer) announces it in its own transaction."""

from datetime import timedelta

from backend.bookings.models import Booking
from backend.core.freed_time import freed_time_announce

_INSTANT = timedelta(microseconds=1)


def booking_time_freed(booking: Booking, *, reason: str) -> None:
    """Announces the local dates of the time `booking` occupied until now (its salon's clock): from its
    first item's start to its last occupation's end (`occupied_until`, exclusive), so a visit whose later
    item runs into the next date frees that date's time for its staff member too."""
    tz = booking.salon.tz
    first_day = booking.start.astimezone(tz).date()
    last_day = max(first_day, (booking.occupied_until - _INSTANT).astimezone(tz).date())
    freed_time_announce(salon_id=booking.salon_id, first_day=first_day, last_day=last_day, reason=reason)
