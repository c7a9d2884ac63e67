"""Refunds: a `Refund` row committed with its reason, executed once by `refund_execute`."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.bookings.models import Booking
from backend.bookings.payment_hooks import RefundCause
from backend.bookings.services import booking_notify
from backend.core.http import ProviderError
from backend.notifications.models import Kind
from backend.payments.hooks import refund_landed_hooks_run
from backend.payments.models import Payment, Refund, RefundStatus, Status
from backend.payments.selectors import payment_refundable_halalas, payments_refundable_of_booking
from backend.payments.services.apply import _apply
from backend.payments.services.base import _enqueue_refund, _invalid_amount, _invalid_state, _lock, gateway

logger = logging.getLogger(__name__)


def _refund_add(*, payment: Payment, amount_halalas: int, key: str, reason: str) -> Refund:
    """A refund request on a locked payment, executed after commit."""
    refund = Refund.objects.create(payment=payment, amount_halalas=amount_halalas, key=key, reason=reason)
    _enqueue_refund(refund.pk)
    return refund


def _refunds_request(*, booking: Booking, amount_halalas: int, key: str, reason: str) -> None:
    """Refund requests for `amount_halalas` of a locked booking, in the caller's transaction, taken from
    the booking's paid payments, oldest first; each executed after commit."""
    left = amount_halalas
    for payment in payments_refundable_of_booking(booking_id=booking.pk).select_for_update():
        take = min(left, payment_refundable_halalas(payment=payment))
        if take > 0:
            _refund_add(payment=payment, amount_halalas=take, key=f"{key}:{payment.pk}", reason=reason)
            left -= take


def refunds_request_for_booking(*, booking: Booking, amount_halalas: int, cause: RefundCause) -> None:
    """Bookings' refund-request hook (registered in PaymentsConfig.ready), called in the transaction that
    cancels or re-prices the booking (locked): the refund is committed with it. A cancellation is keyed by
    the booking; a re-price by the move (`scheduled_at`)."""
    if cause == RefundCause.CANCELLATION:
        key = f"cancellation:{booking.pk}"
        reason = f"booking cancelled by the {booking.cancelled_by}"
    else:
        key = f"reprice:{booking.pk}:{booking.scheduled_at.isoformat()}"
        reason = "booking rescheduled to a lower price"
    _refunds_request(booking=booking, amount_halalas=amount_halalas, key=key, reason=reason)


def payment_refund(*, payment_id, amount_halalas: int | None = None, reason: str = "") -> Payment:
    """A manager's refund, in full (what is left) or `amount_halalas`. Requests on one payment are
    serialized by its row lock and never add up to more than what is left; the refund is executed at
    once, and by the `payments.refund` task if the gateway cannot settle it now."""
    with transaction.atomic():
        _booking, payment = _lock(payment_id)
        left = payment_refundable_halalas(payment=payment)
        if payment.status not in (Status.PAID, Status.CAPTURED) or left == 0:
            raise _invalid_state()
        amount = left if amount_halalas is None else amount_halalas
        if amount > left:
            raise _invalid_amount(left)
        refund = Refund.objects.create(
            payment=payment, amount_halalas=amount, key=f"manual:{uuid.uuid4()}", reason=reason or "manager"
        )
    outcome = refund_execute(refund_id=refund.pk)
    if outcome.retry_in is not None:
        _enqueue_refund(refund.pk, countdown=outcome.retry_in)
    return Payment.objects.get(pk=payment_id)


class RefundAttempt(StrEnum):
    """What one run of `refund_execute` came to (the first two are the refund's settled RefundStatus)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRY = "retry"  # not settled: run again in `retry_in` seconds
    SKIPPED = "skipped"  # settled already, or being executed by another run


@dataclass(frozen=True)
class RefundOutcome:
    status: str  # a RefundAttempt
    retry_in: float | None = None


class _RefundBusy(Exception):
    """Another refund of the same payment may be at the gateway: wait for it to settle."""


def _refund_claim(refund_id: int) -> Refund | None:
    """Takes the refund for one attempt with a conditional UPDATE, or None (settled, or being executed).
    A claim older than the task's hard time limit belongs to a dead worker."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        Refund.objects.filter(pk=refund_id, status=RefundStatus.REQUESTED)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    )
    return Refund.objects.get(pk=refund_id) if claimed else None


def _refund_settle(refund: Refund, booking: Booking, *, status: str, error: str = "") -> None:
    Refund.objects.filter(pk=refund.pk).update(
        status=status, last_error=error[:1000], claimed_at=None, updated_at=timezone.now()
    )
    if status == RefundStatus.SUCCEEDED:
        refund_landed_hooks_run(refund=refund)  # a credit note
        booking_notify(
            booking,
            Kind.REFUND_ISSUED,
            amount_halalas=refund.amount_halalas,
            dedupe_key=f"refund:{refund.pk}:{Kind.REFUND_ISSUED}",
        )
    else:
        logger.error("refund %s failed: %s", refund.pk, error)


def _refund_prepare(refund: Refund) -> bool:
    """Under the locks: reconciles with the gateway, then either settles the refund (it landed in an
    attempt whose answer was lost, or it cannot be made) and returns False, or marks it as going out
    (`gateway_refunded_before`, committed before the call) and returns True."""
    with transaction.atomic():
        booking, payment = _lock(refund.payment_id)
        remote = gateway.payment_fetch(gateway_id=str(payment.pk))
        _apply(booking, payment, remote)
        if refund.gateway_refunded_before is not None:
            if remote.refunded >= refund.gateway_refunded_before + refund.amount_halalas:
                _refund_settle(refund, booking, status=RefundStatus.SUCCEEDED)
                return False
            return True  # it did not land: send it again
        going_out = Refund.objects.filter(
            payment=payment, status=RefundStatus.REQUESTED, gateway_refunded_before__isnull=False
        )
        if going_out.exclude(pk=refund.pk).exists():
            raise _RefundBusy
        settled = remote.captured if remote.status == Status.CAPTURED else remote.amount
        refundable = remote.status in (Status.PAID, Status.CAPTURED) and refund.amount_halalas <= (
            settled - remote.refunded
        )
        if not refundable:
            _refund_settle(
                refund, booking, status=RefundStatus.FAILED, error=f"not refundable: {remote.status}"
            )
            return False
        Refund.objects.filter(pk=refund.pk).update(gateway_refunded_before=remote.refunded)
    return True


def _refund_retry_or_fail(refund: Refund, error: str) -> RefundOutcome:
    if refund.attempts >= settings.PAYMENT_REFUND_MAX_ATTEMPTS:
        with transaction.atomic():
            booking, _payment = _lock(refund.payment_id)
            _refund_settle(refund, booking, status=RefundStatus.FAILED, error=f"attempts exhausted: {error}")
        return RefundOutcome(RefundAttempt.FAILED)
    Refund.objects.filter(pk=refund.pk).update(last_error=error[:1000], claimed_at=None)
    delay = min(
        settings.CELERY_MAX_RETRY_COUNTDOWN_SECONDS,
        settings.PAYMENT_REFUND_RETRY_BASE_DELAY_SECONDS * 2 ** (refund.attempts - 1),
    )
    return RefundOutcome(RefundAttempt.RETRY, retry_in=delay)


def refund_execute(*, refund_id: int) -> RefundOutcome:
    """Sends one refund to the gateway, exactly once however often it runs.

    The row is claimed with a conditional UPDATE (a redelivered task does nothing while it runs). Under
    the payment's locks the gateway is asked what was refunded: an earlier attempt whose answer was lost
    shows there, and the refund is settled without a second call. Before a call goes out its baseline is
    committed, and no other refund of the payment goes out until this one is settled. A gateway refusal
    fails the refund; a timeout or outage retries it (the task backs off), up to
    PAYMENT_REFUND_MAX_ATTEMPTS."""
    refund = _refund_claim(refund_id)
    if refund is None:
        return RefundOutcome(RefundAttempt.SKIPPED)
    try:
        if _refund_prepare(refund):
            remote = gateway.payment_refund(gateway_id=str(refund.payment_id), amount=refund.amount_halalas)
            with transaction.atomic():
                booking, payment = _lock(refund.payment_id)
                _apply(booking, payment, remote)
                _refund_settle(refund, booking, status=RefundStatus.SUCCEEDED)
    except _RefundBusy:
        return _refund_retry_or_fail(refund, "another refund of this payment is being made")
    except ProviderError as error:
        if error.retryable:
            logger.warning("refund %s attempt %s: %r", refund.pk, refund.attempts, error)
            return _refund_retry_or_fail(refund, str(error))
        with transaction.atomic():
            booking, _payment = _lock(refund.payment_id)
            _refund_settle(refund, booking, status=RefundStatus.FAILED, error=str(error))
    return RefundOutcome(Refund.objects.values_list("status", flat=True).get(pk=refund_id))
