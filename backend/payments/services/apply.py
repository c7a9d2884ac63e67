"""Applying what the gateway reports (create answer, 3-D Secure return, webhook, reconciliation), under
the row locks, through the state machine, after checking amount and currency against our row."""

import logging
from enum import StrEnum

from django.db import transaction

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.services import booking_confirm, booking_notify
from backend.notifications.models import Kind
from backend.payments.hooks import payment_received_hooks_run
from backend.payments.models import SUCCESS_STATUSES, Payment, Refund, Status
from backend.payments.services.base import (
    RECEIVED_STATUSES,
    _booking_payment_status_sync,
    _enqueue_refund,
    _lock,
    payment_transition_allowed,
)
from backend.providers.base import GatewayPayment

logger = logging.getLogger(__name__)


def _late_payment_reason(booking: Booking, payment: Payment) -> str:
    """Why money that just arrived must go back ("" when it is welcome)."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        return f"booking {booking.status} before the payment succeeded"
    others = Payment.objects.filter(booking=booking, status__in=SUCCESS_STATUSES).exclude(pk=payment.pk)
    if others.exists():
        return "booking already paid by another payment"
    return ""


def _on_success(booking: Booking, payment: Payment) -> None:
    reason = _late_payment_reason(booking, payment)
    if reason:
        logger.warning("payment %s succeeded too late (%s): refunding it in full", payment.pk, reason)
        refund = Refund.objects.create(
            payment=payment,
            amount_halalas=payment.settled_halalas,
            reason=reason,
            key=f"late_payment:{payment.pk}",
        )
        _enqueue_refund(refund.pk)
        return
    if booking.status == BookingStatus.PENDING_PAYMENT:
        booking_confirm(booking_id=booking.pk)
    booking_notify(
        booking,
        Kind.PAYMENT_RECEIVED,
        amount_halalas=payment.amount_halalas,
        dedupe_key=f"payment:{payment.pk}:{Kind.PAYMENT_RECEIVED}",
    )


class ApplyOutcome(StrEnum):
    """What applying the gateway's view of a payment did."""

    APPLIED = "applied"  # the payment changed
    UNCHANGED = "unchanged"  # stale or repeated news: nothing to do
    MISMATCH = "mismatch"  # the gateway's amount or currency is not ours: nothing applied


def _apply(booking: Booking, payment: Payment, remote: GatewayPayment) -> ApplyOutcome:
    """Applies the gateway's view of the payment (both rows locked by the caller); says what it did."""
    if remote.amount != payment.amount_halalas or remote.currency != payment.currency:
        logger.error(
            "payment %s: the gateway reports %s %s, we expect %s %s; nothing applied",
            payment.pk,
            remote.amount,
            remote.currency,
            payment.amount_halalas,
            payment.currency,
        )
        return ApplyOutcome.MISMATCH
    was_success = payment.status in SUCCESS_STATUSES
    before = (payment.status, payment.refunded_halalas, payment.captured_halalas)
    if payment_transition_allowed(current=payment.status, new=remote.status):
        payment.status = remote.status
    payment.refunded_halalas = max(payment.refunded_halalas, min(remote.refunded, payment.amount_halalas))
    payment.captured_halalas = max(payment.captured_halalas, min(remote.captured, payment.amount_halalas))
    if before == (payment.status, payment.refunded_halalas, payment.captured_halalas):
        return ApplyOutcome.UNCHANGED
    payment.transaction_url = remote.transaction_url or payment.transaction_url
    payment.message = remote.message or payment.message
    payment.gateway_payload = remote.raw
    payment.save()
    if payment.status in SUCCESS_STATUSES and not was_success:
        _on_success(booking, payment)
    if payment.status in RECEIVED_STATUSES and before[0] not in RECEIVED_STATUSES:
        payment_received_hooks_run(payment=payment)  # the money is the salon's: invoice it
    _booking_payment_status_sync(booking.pk)
    return ApplyOutcome.APPLIED


def payment_apply(*, payment_id, remote: GatewayPayment) -> ApplyOutcome:
    """Applies a gateway answer about the payment under its locks (see `_apply`)."""
    with transaction.atomic():
        booking, payment = _lock(payment_id)
        return _apply(booking, payment, remote)


def _payment_fail(payment_id, *, message: str) -> None:
    """The gateway refused to create the payment: it never existed there."""
    with transaction.atomic():
        booking, payment = _lock(payment_id)
        if payment.status == Status.PENDING:
            payment.status = Status.FAILED
            payment.message = message[:1000]
            payment.save(update_fields=["status", "message", "updated_at"])
            _booking_payment_status_sync(booking.pk)
