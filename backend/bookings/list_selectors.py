"""Booking lists, with the filters their endpoints offer: a user's (GET /bookings/) and a salon's for its
managers (GET /manage/salons/<id>/bookings/, filtered by backend/bookings/filters.py). Availability and
the start check are selectors.py."""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from backend.accounts.models import User
from backend.bookings.access import booking_list_for_user
from backend.bookings.models import Booking, BookingStatus
from backend.salons.models import Salon


def booking_list_for_user_filtered(
    *, user: User, status: str = "", upcoming: bool = False, now: datetime | None = None
) -> QuerySet[Booking]:
    """The bookings `user` may see (`booking_list_for_user`), soonest first, waitlist offers left out (the
    entry shows its offer): only those in `status` when given, only those not started yet with `upcoming`."""
    bookings = (
        booking_list_for_user(user=user)
        .exclude(status=BookingStatus.OFFERED)
        .prefetch_related("items")
        .order_by("start", "id")
    )
    if status:
        bookings = bookings.filter(status=status)
    if upcoming:
        bookings = bookings.filter(start__gt=now or timezone.now())
    return bookings


def booking_list_for_salon(*, salon: Salon) -> QuerySet[Booking]:
    """The salon's bookings by start, with their customers and items (waitlist offers are not bookings
    yet: the salon sees them on its waitlist)."""
    return (
        salon.bookings.exclude(status=BookingStatus.OFFERED)
        .select_related("customer")
        .prefetch_related("items")
        .order_by("start", "id")
    )
