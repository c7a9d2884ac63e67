"""In-salon checkout: the salon takes the money at its counter (cash, or a card on its own terminal).

The booking must have started and not be paid online. The payment is recorded as an `InSalonPayment`
(one per booking), the booking becomes paid and completed, and the payment-received hooks run in the same
transaction (e-invoicing issues the invoice). Lock order: backend/bookings/payment_hooks.py (the booking
first)."""

from datetime import datetime

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.models import PaymentStatus as BookingPaymentStatus
from backend.bookings.services import booking_checkout_complete, booking_lock
from backend.core.errors import ApplicationError
from backend.payments.hooks import payment_received_hooks_run
from backend.payments.models import OPEN_STATUSES, InSalonPayment, Payment

CHECKOUT_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
MAX_TIP_HALALAS = 1_000_000  # 10,000 SAR


def _conflict(code: str, message) -> ApplicationError:
    return ApplicationError(code, message, status=409)


def booking_checkout(
    *, salon_id: int, booking_id: int, actor, method: str, tip_halalas: int = 0, now: datetime | None = None
) -> Booking:
    """Records the in-salon payment of a started booking of `salon_id` (the caller checked that `actor`
    works there): 404 for another salon's booking, 409 `invalid_booking_state`, `not_started`,
    `payment_in_progress` or `already_paid`."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Booking.objects.filter(salon_id=salon_id, pk=booking_id).exists():
            raise Http404
        booking = booking_lock(booking_id=booking_id)
        if booking.status not in CHECKOUT_STATUSES:
            raise _conflict("invalid_booking_state", _("Only a confirmed or completed booking can be paid."))
        if booking.start > now:
            raise _conflict("not_started", _("This booking has not started yet."))
        open_online = Payment.objects.filter(booking=booking, status__in=OPEN_STATUSES).exists()
        if booking.payment_status == BookingPaymentStatus.PENDING or open_online:
            raise _conflict("payment_in_progress", _("An online payment of this booking is under way."))
        if booking.payment_status != BookingPaymentStatus.UNPAID:
            raise _conflict("already_paid", _("This booking is already paid."))
        payment = InSalonPayment.objects.create(
            booking=booking,
            method=method,
            amount_halalas=booking.price_halalas,
            tip_halalas=tip_halalas,
            currency=booking.currency,
            recorded_by=actor,
        )
        booking_checkout_complete(booking)
        payment_received_hooks_run(payment=payment)
    return booking
