"""Creating a payment: the row committed first, then the gateway called with its id as `given_id`."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.models import ACTIVE_STATUSES, BookingStatus
from backend.bookings.services import booking_lock
from backend.core.errors import ApplicationError
from backend.core.http import ProviderError
from backend.payments.models import SUCCESS_STATUSES, Payment, Status
from backend.payments.services.apply import _payment_fail, payment_apply
from backend.payments.services.base import (
    INVALID_REQUEST,
    MIN_AMOUNT_HALALAS,
    _booking_payment_status_sync,
    _gateway_unavailable,
    gateway,
)

logger = logging.getLogger(__name__)


def _payment_open(*, booking_id: int, source_type: str, request_key: str, now: datetime) -> Payment:
    """The pending row, committed; or the row an earlier run of the same request made."""
    with transaction.atomic():
        booking = booking_lock(booking_id=booking_id)
        if request_key:
            earlier = Payment.objects.filter(booking=booking, request_key=request_key).first()
            if earlier is not None:
                return earlier
        if Payment.objects.filter(booking=booking, status__in=SUCCESS_STATUSES).exists():
            raise ApplicationError("already_paid", _("This booking is already paid."), status=409)
        held_past = booking.status == BookingStatus.PENDING_PAYMENT and booking.hold_expires_at <= now
        if booking.status not in ACTIVE_STATUSES or held_past or booking.price_halalas < MIN_AMOUNT_HALALAS:
            raise ApplicationError("not_payable", _("This booking cannot be paid."), status=409)
        payment = Payment.objects.create(
            booking=booking,
            amount_halalas=booking.price_halalas,
            currency=booking.currency,
            source_type=source_type,
            request_key=request_key,
        )
        _booking_payment_status_sync(booking.pk)
    return payment


def payment_create(
    *,
    booking_id: int,
    source: dict[str, str],
    callback_url: str,
    request_key: str = "",
    now: datetime | None = None,
) -> Payment:
    """Pays for the booking with `source` (a Moyasar source, already validated). The row is committed
    first; the gateway is called synchronously (the app needs its `transaction_url`). A retry of the same
    request (same `request_key`) continues the payment it made: its given_id makes that safe."""
    payment = _payment_open(
        booking_id=booking_id, source_type=source["type"], request_key=request_key, now=now or timezone.now()
    )
    if payment.status != Status.PENDING:
        return payment
    try:
        remote = gateway.payment_create(
            given_id=str(payment.pk),
            amount=payment.amount_halalas,
            currency=payment.currency,
            description=f"Booking {booking_id}",
            callback_url=callback_url,
            source=source,
            metadata={"booking_id": str(booking_id)},
        )
    except ProviderError as error:
        if error.retryable:
            # The reconciler settles the pending row (looking it up by given_id).
            logger.warning("payment %s: create got no answer (%r)", payment.pk, error)
            raise _gateway_unavailable() from error
        _payment_fail(payment.pk, message=error.message)
        if error.code == INVALID_REQUEST:
            raise ApplicationError(
                "payment_rejected",
                _("The payment service refused this payment. Check the payment details and try again."),
            ) from error
        logger.error("payment %s: the gateway refused us (%r)", payment.pk, error)
        raise _gateway_unavailable() from error
    payment_apply(payment_id=payment.pk, remote=remote)
    return Payment.objects.get(pk=payment.pk)
