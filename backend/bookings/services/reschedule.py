"""Moving a booking to another time (or staff member), validated like a create and re-priced."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.access import ActingAs, booking_access_for_reschedule
from backend.bookings.availability import Rejection
from backend.bookings.models import ACTIVE_STATUSES, Booking, PaymentStatus
from backend.bookings.payment_hooks import RefundCause, booking_paid_halalas, refund_request_hooks_run
from backend.bookings.policy import customer_may_reschedule
from backend.bookings.selectors import VisitCheck, visit_check
from backend.bookings.services.create import (
    _lock_customer_of,
    _lock_staff_in_order,
    _refusal_error,
    _refuse_beyond_horizon,
    customer_busy_error,
    planned_items,
)
from backend.bookings.services.freed import booking_time_freed
from backend.bookings.services.holds import _expire_stale_holds_of
from backend.bookings.services.inserts import booking_items_replace
from backend.bookings.services.notify import booking_notify
from backend.bookings.services.rejections import _is_overlap_violation, rejection_error
from backend.bookings.services.transitions import _not_in_state, booking_lock
from backend.bookings.visits import VisitRefusal
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


def _pins(items, *, staff_id: int | None, item_staff) -> list[int | None]:
    """Who each item goes to: `item_staff` per item (None: anyone), else `staff_id` for every item, else
    each item's own staff member."""
    if item_staff is not None:
        if len(item_staff) != len(items):
            raise ValidationError({"items": [_("Give one entry per item of the booking, in order.")]})
        return list(item_staff)
    if staff_id is not None:
        return [staff_id] * len(items)
    return [item.staff_id for item in items]


def booking_reschedule(
    *,
    booking_id: int,
    actor,
    start: datetime,
    staff_id: int | None = None,
    item_staff: Sequence[int | None] | None = None,
    now: datetime | None = None,
) -> Rescheduled:
    """Moves an active booking (the whole visit) to `start`: each item with the staff member of
    `item_staff` (None: anyone free), or `staff_id` for every item, or its own; validated like a create
    and re-priced at those staff members' prices. The old times are freed in the same transaction; a
    refused reschedule leaves the booking untouched.

    The customer may move a paid booking only while cancelling it would refund everything (else 409
    `reschedule_too_late`); the salon moves its customer's bookings whatever the tiers. A price drop on a
    paid booking is refunded through the cancellation refund path (requested in this transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        # The customer's lock first, as a create takes it: their creates and moves take turns, so
        # `customer_busy` below sees the visit a racing create inserts, and that create sees this move.
        _lock_customer_of(booking_id=booking_id)
        booking = booking_lock(booking_id=booking_id)
        acting_as = booking_access_for_reschedule(user=actor, booking=booking)
        if booking.status not in ACTIVE_STATUSES or booking.start <= now:
            raise _not_in_state("not_reschedulable", _("This booking can no longer be moved."))
        paid = booking_paid_halalas(booking_id=booking.pk)
        if acting_as == ActingAs.CUSTOMER:
            _refuse_too_late(booking, paid_halalas=paid, now=now)
        salon = booking.salon
        _refuse_beyond_horizon(salon=salon, start=start, now=now)
        items = list(booking.items.select_related("service").order_by("position"))
        services = [item.service for item in items]
        pins = _pins(items, staff_id=staff_id, item_staff=item_staff)

        def moved(pins: list) -> VisitCheck:
            # The booking's own occupations do not count against its new time.
            return visit_check(
                salon=salon,
                services=services,
                start=start,
                pins=pins,
                now=now,
                ignore_booking_id=booking.pk,
                customer_id=booking.customer_id,
            )

        if None in pins:
            found = moved(pins).outcome
            if isinstance(found, VisitRefusal):
                raise _refusal_error(found, items=len(items))
            pins = [item.staff_id for item in found[0].items]
        staff = _lock_staff_in_order(salon=salon, staff_ids=set(pins))
        check = moved(pins)
        outcome = check.outcome
        if isinstance(outcome, VisitRefusal) and outcome.reason == Rejection.NOT_ON_SLOT_GRID:
            # Off the grid the free time has without this booking, but the list the customer picked from
            # was built with it in place, and its grid restarts where this booking's buffer ends: a start
            # that list offers is accepted too.
            as_listed = visit_check(salon=salon, services=services, start=start, pins=pins, now=now)
            if not isinstance(as_listed.outcome, VisitRefusal):
                outcome = as_listed.outcome
        if isinstance(outcome, VisitRefusal):
            raise _refusal_error(outcome, items=len(items))
        visit = outcome[0]
        if check.schedules.customer_busy(visit.start, visit.end):
            raise customer_busy_error()
        planned = planned_items(check, services=services, visit=visit, staff=staff)
        refund = _reprice(
            booking, price_halalas=sum(item.price_halalas for item in planned), paid_halalas=paid
        )
        for stale_staff_id in sorted(set(pins) & check.schedules.stale_holds):
            _expire_stale_holds_of(staff_id=stale_staff_id, now=now)
        booking_time_freed(booking, reason="rescheduled")  # the time it leaves, before it moves
        try:
            with transaction.atomic():
                booking_items_replace(booking, planned, now=now)
        except IntegrityError as error:
            if _is_overlap_violation(error):
                raise rejection_error(Rejection.SLOT_UNAVAILABLE) from error
            raise
        if refund:
            refund_request_hooks_run(booking=booking, amount_halalas=refund, cause=RefundCause.REPRICE)
        booking_notify(booking, Kind.BOOKING_RESCHEDULED, event=start.isoformat(), refund_halalas=refund)
    return Rescheduled(booking=booking, refund_halalas=refund)
