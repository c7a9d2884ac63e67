"""The booking lifecycle: one function per transition, each checking its allowed from-states under a row
lock, each writing its notification rows in the same transaction. Also the services payments changes
bookings through (lock, payment status, confirm, checkout: backend/bookings/payment_hooks.py)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.access import ActingAs, booking_access_for_cancel, booking_access_for_close
from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, CancelledBy, PaymentStatus
from backend.bookings.payment_hooks import RefundCause, booking_paid_halalas, refund_request_hooks_run
from backend.bookings.policy import refund_for_cancellation
from backend.bookings.services.freed import booking_time_freed
from backend.bookings.services.notify import booking_notify
from backend.core.errors import ApplicationError
from backend.notifications.models import Kind


def booking_lock(*, booking_id: int) -> Booking:
    """Locks the booking's row (in the caller's transaction): the first lock of every write touching it
    (the lock order: backend/bookings/payment_hooks.py)."""
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("salon", "service", "staff", "customer")
        .get(pk=booking_id)
    )


def _not_in_state(code: str, message) -> ApplicationError:
    return ApplicationError(code, message, status=409)


def booking_confirm(*, booking_id: int) -> Booking:
    """A held booking is paid: it becomes `confirmed`. Confirming a confirmed booking changes nothing."""
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        if booking.status == BookingStatus.CONFIRMED:
            return booking
        if booking.status != BookingStatus.PENDING_PAYMENT:
            raise _not_in_state("not_confirmable", _("This booking can no longer be confirmed."))
        booking.status = BookingStatus.CONFIRMED
        booking.hold_expires_at = None
        booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
        booking_notify(booking, Kind.BOOKING_CONFIRMED)
    return booking


def booking_payment_status_set(*, booking_id: int, status: str) -> None:
    """Records the booking's payment status (payments derives it from its rows, the booking locked)."""
    Booking.objects.filter(pk=booking_id).update(payment_status=status, updated_at=timezone.now())


def booking_checkout_complete(booking: Booking) -> None:
    """A started booking (locked by the caller) paid at the salon's counter: paid and completed."""
    booking.status = BookingStatus.COMPLETED
    booking.payment_status = PaymentStatus.PAID
    booking.save(update_fields=["status", "payment_status", "updated_at"])


def _cancel_locked(booking: Booking, *, by_salon: bool, reason: str, now: datetime) -> Booking:
    """Cancels `booking`, locked by the caller and known to be cancellable: the refund by the salon's
    tiers (in full when the salon cancels), its refund request and the customer's message, all in the
    caller's transaction."""
    refund = refund_for_cancellation(
        paid_halalas=booking_paid_halalas(booking_id=booking.pk),
        policy=booking.salon.cancellation_policy,
        time_left=booking.start - now,
        by_salon=by_salon,
    )
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = CancelledBy.SALON if by_salon else CancelledBy.CUSTOMER
    booking.cancellation_reason = reason
    booking.refund_halalas = refund
    booking.hold_expires_at = None
    booking.save()
    refund_request_hooks_run(booking=booking, amount_halalas=refund, cause=RefundCause.CANCELLATION)
    booking_notify(booking, Kind.BOOKING_CANCELLED, refund_halalas=refund)
    booking_time_freed(booking, reason="cancelled")
    return booking


def booking_cancel(*, booking_id: int, actor, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancels an active booking. The customer may cancel before the start, refunded by the salon's tiers;
    the salon's staff or manager may cancel any active booking, refunded in full (who is who:
    `booking_access_for_cancel`). `refund_halalas` is recorded with the cancellation, and its refund
    request is committed with it; the payments app executes it after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        by_salon = booking_access_for_cancel(user=actor, booking=booking) == ActingAs.SALON
        if booking.status not in ACTIVE_STATUSES or (not by_salon and booking.start <= now):
            raise _not_in_state("not_cancellable", _("This booking can no longer be cancelled."))
        return _cancel_locked(booking, by_salon=by_salon, reason=reason, now=now)


def _close_started(*, booking_id: int, actor, status: str, now: datetime | None) -> Booking:
    """Closes a confirmed booking that has started as `status` (completed or no-show), for its staff."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        booking_access_for_close(user=actor, booking=booking)
        if booking.status != BookingStatus.CONFIRMED:
            raise _not_in_state("invalid_booking_state", _("Only a confirmed booking can be closed."))
        if booking.start > now:
            raise _not_in_state("not_started", _("This booking has not started yet."))
        booking.status = status
        booking.save(update_fields=["status", "updated_at"])
    return booking


def booking_complete(*, booking_id: int, actor, now: datetime | None = None) -> Booking:
    return _close_started(booking_id=booking_id, actor=actor, status=BookingStatus.COMPLETED, now=now)


def booking_mark_no_show(*, booking_id: int, actor, now: datetime | None = None) -> Booking:
    return _close_started(booking_id=booking_id, actor=actor, status=BookingStatus.NO_SHOW, now=now)
