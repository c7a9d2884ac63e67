"""Moving a booking to another time (or staff member), validated like a create and re-priced."""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.access import ActingAs, booking_access_for_reschedule
from backend.bookings.availability import Rejection
from backend.bookings.models import ACTIVE_STATUSES, Booking, PaymentStatus
from backend.bookings.payment_hooks import RefundCause, booking_paid_halalas, refund_request_hooks_run
from backend.bookings.policy import customer_may_reschedule
from backend.bookings.selectors import start_check
from backend.bookings.services.create import _lock_staff, _refuse_beyond_horizon
from backend.bookings.services.holds import _expire_stale_holds_of
from backend.bookings.services.inserts import PlannedItem, booking_items_replace
from backend.bookings.services.notify import booking_notify
from backend.bookings.services.rejections import _is_overlap_violation, rejection_error
from backend.bookings.services.transitions import _not_in_state, booking_lock
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind


@dataclass(frozen=True)
class Rescheduled:
    booking: Booking
    refund_halalas: int  # what the move gives back: the price fell below what was paid


def _refuse_too_late(booking: Booking, *, paid_halalas: int, now: datetime) -> None:
    """The customer's tier rule (policy.customer_may_reschedule)."""
    if not customer_may_reschedule(
        paid_halalas=paid_halalas, policy=booking.salon.cancellation_policy, time_left=booking.start - now
    ):
        raise _not_in_state(
            "reschedule_too_late",
            _("This booking can no longer be moved: cancelling it now would not refund it in full."),
        )


def _reprice(booking: Booking, *, price_halalas: int, paid_halalas: int) -> int:
    """Sets the booking's new price (the staff member's for the service, as on create); returns the refund
    it owes. A paid booking never costs more after a move (409 `price_changed`); one that costs less is
    refunded down to the new price. A payment under way was created for the old amount: the price does
    not change under it (409 `payment_in_progress`)."""
    if price_halalas == booking.price_halalas:
        return 0
    if booking.payment_status == PaymentStatus.PENDING:
        raise _not_in_state(
            "payment_in_progress",
            _("A payment for this booking is under way; move it to this price once the payment is done."),
        )
    if paid_halalas and price_halalas > booking.price_halalas:
        raise ApplicationError(
            "price_changed",
            _("This time costs more than what was paid; cancel and book it again instead."),
            status=409,
            extra={"price_halalas": price_halalas},
        )
    booking.price_halalas = price_halalas
    return max(0, paid_halalas - price_halalas)


def booking_reschedule(
    *, booking_id: int, actor, start: datetime, staff_id: int | None = None, now: datetime | None = None
) -> Rescheduled:
    """Moves an active booking to `start` (with `staff_id`, or the same staff member), validated like a
    create and re-priced at that staff member's price. The old time is freed in the same transaction; a
    refused reschedule leaves the booking untouched.

    The customer may move a paid booking only while cancelling it would refund everything (else 409
    `reschedule_too_late`); the salon moves its customer's bookings whatever the tiers. A price drop on a
    paid booking is refunded through the cancellation refund path (requested in this transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        acting_as = booking_access_for_reschedule(user=actor, booking=booking)
        if booking.status not in ACTIVE_STATUSES or booking.start <= now:
            raise _not_in_state("not_reschedulable", _("This booking can no longer be moved."))
        paid = booking_paid_halalas(booking_id=booking.pk)
        if acting_as == ActingAs.CUSTOMER:
            _refuse_too_late(booking, paid_halalas=paid, now=now)
        _refuse_beyond_horizon(salon=booking.salon, start=start, now=now)
        target_staff_id = staff_id if staff_id is not None else booking.staff_id
        target_staff = _lock_staff(salon=booking.salon, staff_id=target_staff_id)
        # The booking's own occupation does not count against its new time.
        check = start_check(
            salon=booking.salon,
            service=booking.service,
            start=start,
            staff_id=target_staff_id,
            now=now,
            ignore_booking_id=booking.pk,
        )
        if check.reasons[target_staff_id] == Rejection.NOT_ON_SLOT_GRID:
            # Off the grid the free time has without this booking, but the list the customer picked from
            # was built with it in place, and its grid restarts where this booking's buffer ends: a start
            # that list offers is accepted too.
            as_listed = start_check(
                salon=booking.salon, service=booking.service, start=start, staff_id=target_staff_id, now=now
            )
            if as_listed.reasons[target_staff_id] is None:
                check = as_listed
        if check.reasons[target_staff_id] is not None:
            raise rejection_error(check.reasons[target_staff_id])
        terms = check.links[target_staff_id]
        refund = _reprice(booking, price_halalas=terms.price_halalas, paid_halalas=paid)
        if target_staff_id in check.stale_holds:
            _expire_stale_holds_of(staff_id=target_staff_id, now=now)
        planned = PlannedItem(
            service=booking.service,
            staff=target_staff,
            start=start,
            duration=terms.duration,
            price_halalas=booking.price_halalas,
        )
        try:
            with transaction.atomic():
                booking_items_replace(booking, [planned], now=now)
        except IntegrityError as error:
            if _is_overlap_violation(error):
                raise rejection_error(Rejection.SLOT_UNAVAILABLE) from error
            raise
        if refund:
            refund_request_hooks_run(booking=booking, amount_halalas=refund, cause=RefundCause.REPRICE)
        booking_notify(booking, Kind.BOOKING_RESCHEDULED, event=start.isoformat(), refund_halalas=refund)
    return Rescheduled(booking=booking, refund_halalas=refund)
