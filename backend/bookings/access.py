"""Who may act on a booking: the one place that decides it, one small function per action.

Modelled on Zulip's access functions: each condition on its own line, the most common case first, and
the function names the action it guards. The views use `booking_get_for_user` (who may see a booking,
as a query) to answer 404 to anyone who may not see it; the services call the
`booking_access_for_*` function of their action under the booking's row lock, so a path that skips the
view is held to the same rule.

The table (tests/bookings/test_access.py checks every cell; "salon" = staff or manager of its salon):

| action            | its customer              | salon, platform admin | anyone else |
|-------------------|---------------------------|-----------------------|-------------|
| view, list        | yes                       | yes                   | 404         |
| cancel            | before the start, tiers   | yes, refund in full   | 404         |
| reschedule        | paid: while refund is full| yes, whatever the tiers | 404       |
| complete, no-show | 403                       | yes                   | 404         |
| pay               | yes                       | 404                   | 404         |
| review            | yes (salon people: 403 `cannot_review_own_salon`) | 403 | 404 |

A customer who also works at the booking's salon acts as its customer on their own booking (cancel and
reschedule by the tiers), never as the salon."""

from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings.models import Booking
from backend.core.errors import ApplicationError
from backend.salons.models import Salon, StaffMember


class ActingAs(StrEnum):
    """In whose name a user acts on a booking: the refund and reschedule rules depend on it."""

    CUSTOMER = "customer"
    SALON = "salon"


# --- Membership ------------------------------------------------------------------------------------


def works_at_salon(*, user: User, salon_id: int) -> bool:
    """A manager of the salon, or one of its active staff members."""
    if Salon.objects.filter(pk=salon_id, managers=user).exists():
        return True
    return StaffMember.objects.filter(salon_id=salon_id, user=user, is_active=True).exists()


def acts_for_salon(*, user: User, salon_id: int) -> bool:
    """Who may act in the salon's name: its managers and staff, and platform admins."""
    if user.is_superuser:
        return True
    return works_at_salon(user=user, salon_id=salon_id)


def _acting_as(*, user: User, booking: Booking) -> ActingAs | None:
    if booking.customer_id == user.pk:
        return ActingAs.CUSTOMER
    if acts_for_salon(user=user, salon_id=booking.salon_id):
        return ActingAs.SALON
    return None


# --- Seeing a booking ------------------------------------------------------------------------------


def booking_list_for_user(*, user: User) -> QuerySet[Booking]:
    """The bookings `user` may see (`can_view` as a query): their own as a customer, and every booking of
    the salons they work at; platform admins see all."""
    bookings = Booking.objects.select_related("salon")
    if user.is_superuser:
        return bookings
    managed = Salon.objects.filter(managers=user).values("pk")
    staffed = StaffMember.objects.filter(user=user, is_active=True).values("salon_id")
    return bookings.filter(Q(customer=user) | Q(salon_id__in=managed) | Q(salon_id__in=staffed))


def booking_get_for_user(*, user: User, booking_id: int) -> Booking:
    """The booking if `user` may see it; Http404 otherwise, existing or not."""
    return get_object_or_404(booking_list_for_user(user=user), pk=booking_id)


# --- Acting on a booking ---------------------------------------------------------------------------


def _permission_denied(message) -> ApplicationError:
    return ApplicationError("permission_denied", message, status=403)


def booking_access_for_cancel(*, user: User, booking: Booking) -> ActingAs:
    """The customer (refunded by the tiers) or the salon (refunded in full); Http404 for anyone else.
    When cancelling is allowed (status, start) is the service's rule."""
    acting_as = _acting_as(user=user, booking=booking)
    if acting_as is None:
        raise Http404
    return acting_as


def booking_access_for_reschedule(*, user: User, booking: Booking) -> ActingAs:
    """The customer (a paid booking only while a cancellation would refund it all) or the salon (which
    may move its customer's booking whatever the tiers: cancelling it would refund everything anyway);
    Http404 for anyone else."""
    acting_as = _acting_as(user=user, booking=booking)
    if acting_as is None:
        raise Http404
    return acting_as


def booking_access_for_close(*, user: User, booking: Booking) -> None:
    """Complete and no-show: the salon's staff and managers, and platform admins. The customer sees the
    booking, so 403; anyone else 404."""
    if acts_for_salon(user=user, salon_id=booking.salon_id):
        return
    if booking.customer_id == user.pk:
        raise _permission_denied(_("Only the salon's staff can do this."))
    raise Http404


def booking_access_for_pay(*, user: User, booking: Booking) -> None:
    """Only the customer pays for their booking; Http404 for anyone else (the salon included)."""
    if booking.customer_id == user.pk:
        return
    raise Http404


def booking_access_for_review(*, user: User, booking: Booking) -> None:
    """The customer reviews their booking, unless they work at its salon (a review of one's own salon
    is not a customer's view); the salon's people see the booking, so 403; anyone else 404."""
    if booking.customer_id != user.pk:
        if acts_for_salon(user=user, salon_id=booking.salon_id):
            raise _permission_denied(_("Only the customer who booked can review this booking."))
        raise Http404
    if works_at_salon(user=user, salon_id=booking.salon_id):
        raise ApplicationError(
            "cannot_review_own_salon", _("Staff and managers cannot review their own salon."), status=403
        )
