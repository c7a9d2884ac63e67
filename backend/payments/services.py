"""Payments: create with Moyasar, apply what the gateway reports, capture, refund, void, reconcile.

- The payment row is committed before the gateway is called; its id is Moyasar's `given_id`.
- Whatever the gateway reports (create answer, 3-D Secure return, webhook, reconciliation) goes through
  `payment_apply`: under the row locks, through a state machine that never moves backwards (refunded,
  voided and failed are final; amounts only grow), after checking amount and currency against our row.
- Lock order: the booking, then the payment (`_lock`), as backend/bookings/payment_hooks.py sets it.
  Booking rows change only through the booking services made for payments (lock, payment status,
  confirm); cancellations and re-prices reach the refunds here through that module's hook.
- A refund is a `Refund` row committed with its reason, executed once by `refund_execute` (see there).
(docs/adr/0006-payments.md)"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from backend.bookings.models import PaymentStatus as BookingPaymentStatus
from backend.bookings.payment_hooks import RefundCause
from backend.bookings.services import (
    booking_confirm,
    booking_lock,
    booking_notify,
    booking_payment_status_set,
)
from backend.core.errors import ApplicationError
from backend.core.http import ProviderError
from backend.core.tasks import enqueue_on_commit
from backend.notifications.models import Kind
from backend.payments.hooks import payment_received_hooks_run, refund_landed_hooks_run
from backend.payments.models import (
    OPEN_STATUSES,
    SUCCESS_STATUSES,
    InSalonPayment,
    Payment,
    Refund,
    RefundStatus,
    Status,
    WebhookEvent,
)
from backend.payments.selectors import payment_refundable_halalas, payments_refundable_of_booking
from backend.providers import moyasar
from backend.providers.base import GatewayPayment, PaymentGateway

logger = logging.getLogger(__name__)

gateway: PaymentGateway = moyasar  # type: ignore[assignment]  # a module satisfying the protocol

MIN_AMOUNT_HALALAS = 100  # Moyasar's minimum
INVALID_REQUEST = "invalid_request_error"
NOT_FOUND = 404

# The state machine: where each status may go. Anything else is stale news and is ignored.
_NEXT: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset(Status.values) - {Status.PENDING},
    Status.INITIATED: frozenset(
        {Status.PAID, Status.FAILED, Status.AUTHORIZED, Status.CAPTURED, Status.REFUNDED, Status.VOIDED}
    ),
    Status.AUTHORIZED: frozenset({Status.CAPTURED, Status.VOIDED, Status.REFUNDED}),
    Status.PAID: frozenset({Status.REFUNDED, Status.VOIDED}),
    Status.CAPTURED: frozenset({Status.REFUNDED}),
    Status.FAILED: frozenset(),
    Status.REFUNDED: frozenset(),
    Status.VOIDED: frozenset(),
}

# Money taken (not only promised, as `authorized` is): a payment entering one of these is invoiced.
RECEIVED_STATUSES = (Status.PAID, Status.CAPTURED)

# Every payment event is handled alike: it only names the payment to re-fetch. Others are acknowledged.
WEBHOOK_EVENT_TYPES = frozenset(
    {
        "payment_paid",
        "payment_failed",
        "payment_authorized",
        "payment_captured",
        "payment_refunded",
        "payment_voided",
    }
)


def payment_transition_allowed(*, current: str, new: str) -> bool:
    return new in _NEXT[current]


# --- errors ----------------------------------------------------------------------------------------


def _gateway_unavailable() -> ApplicationError:
    return ApplicationError(
        "gateway_unavailable", _("The payment service did not answer. Please try again."), status=502
    )


def _invalid_state() -> ApplicationError:
    return ApplicationError(
        "invalid_payment_state", _("This payment cannot do that in its current state."), status=409
    )


def _invalid_amount(most: int) -> ApplicationError:
    return ApplicationError(
        "invalid_amount",
        _("The amount must be between 1 and %(most)s halalas.") % {"most": most},
        extra={"max_amount_halalas": most},
    )


# --- helpers ---------------------------------------------------------------------------------------


def _lock(payment_id) -> tuple[Booking, Payment]:
    """Locks the payment's booking, then the payment: the one lock order of every write touching both."""
    booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
    booking = booking_lock(booking_id=booking_id)
    return booking, Payment.objects.select_for_update().get(pk=payment_id)


def _booking_payment_status_sync(booking_id: int) -> None:
    """The booking's payment_status, derived from all its payments."""
    payments = list(Payment.objects.filter(booking_id=booking_id))
    settled = sum(payment.settled_halalas for payment in payments)
    settled += sum(
        InSalonPayment.objects.filter(booking_id=booking_id).values_list("amount_halalas", flat=True)
    )
    refunded = sum(payment.refunded_halalas for payment in payments)
    if settled and refunded >= settled:
        status = BookingPaymentStatus.REFUNDED
    elif settled and refunded:
        status = BookingPaymentStatus.PARTIALLY_REFUNDED
    elif settled:
        status = BookingPaymentStatus.PAID
    elif any(payment.status in OPEN_STATUSES for payment in payments):
        status = BookingPaymentStatus.PENDING
    else:
        status = BookingPaymentStatus.UNPAID
    booking_payment_status_set(booking_id=booking_id, status=status)


def _enqueue_refund(refund_id: int, *, countdown: float | None = None) -> None:
    # Only committed refunds are executed.
    from worker.tasks.payments import refund as refund_task

    enqueue_on_commit(
        refund_task, refund_id, countdown=countdown, recovery="payments.reconcile enqueues it again"
    )


# --- applying what the gateway says ----------------------------------------------------------------


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


def _apply(booking: Booking, payment: Payment, remote: GatewayPayment) -> str:
    """Applies the gateway's view of the payment (both rows locked by the caller). Returns the outcome:
    `applied`, `unchanged` or `mismatch`."""
    if remote.amount != payment.amount_halalas or remote.currency != payment.currency:
        logger.error(
            "payment %s: the gateway reports %s %s, we expect %s %s; nothing applied",
            payment.pk,
            remote.amount,
            remote.currency,
            payment.amount_halalas,
            payment.currency,
        )
        return "mismatch"
    was_success = payment.status in SUCCESS_STATUSES
    before = (payment.status, payment.refunded_halalas, payment.captured_halalas)
    if payment_transition_allowed(current=payment.status, new=remote.status):
        payment.status = remote.status
    payment.refunded_halalas = max(payment.refunded_halalas, min(remote.refunded, payment.amount_halalas))
    payment.captured_halalas = max(payment.captured_halalas, min(remote.captured, payment.amount_halalas))
    if before == (payment.status, payment.refunded_halalas, payment.captured_halalas):
        return "unchanged"
    payment.transaction_url = remote.transaction_url or payment.transaction_url
    payment.message = remote.message or payment.message
    payment.gateway_payload = remote.raw
    payment.save()
    if payment.status in SUCCESS_STATUSES and not was_success:
        _on_success(booking, payment)
    if payment.status in RECEIVED_STATUSES and before[0] not in RECEIVED_STATUSES:
        payment_received_hooks_run(payment=payment)  # the money is the salon's: invoice it
    _booking_payment_status_sync(booking.pk)
    return "applied"


def payment_apply(*, payment_id, remote: GatewayPayment) -> str:
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


# --- create ----------------------------------------------------------------------------------------


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


# --- refresh and reconcile -------------------------------------------------------------------------


def payment_refresh(*, payment_id, now: datetime | None = None) -> Payment:
    """Asks the gateway about a payment that is not final yet and applies the answer (the 3-D Secure
    return, the reconciler). A `pending` row the gateway does not know, older than
    PAYMENT_RECONCILE_AFTER_SECONDS (longer than any create can take), was never created: failed."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment_id)
    if payment.status not in OPEN_STATUSES:
        return payment
    try:
        remote = gateway.payment_fetch(gateway_id=str(payment.pk))
    except ProviderError as error:
        settled_after = payment.created_at + timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
        if error.status == NOT_FOUND and payment.status == Status.PENDING and settled_after <= now:
            _payment_fail(payment.pk, message="never created at the gateway")
        else:
            logger.warning("payment %s: could not refresh (%r)", payment.pk, error)
        return Payment.objects.get(pk=payment_id)
    payment_apply(payment_id=payment.pk, remote=remote)
    return Payment.objects.get(pk=payment_id)


def payments_reconcile(*, now: datetime | None = None, limit: int = 20) -> int:
    """Beat, every minute: payments left open past PAYMENT_RECONCILE_AFTER_SECONDS (and younger than
    PAYMENT_RECONCILE_WINDOW_HOURS: abandoned 3-D Secure pages stay `initiated` forever) are fetched and
    settled; refunds whose task was lost are enqueued again. Returns the payments looked at."""
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
    ids = list(
        Payment.objects.filter(
            status__in=OPEN_STATUSES,
            created_at__lte=due,
            created_at__gte=now - timedelta(hours=settings.PAYMENT_RECONCILE_WINDOW_HOURS),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for payment_id in ids:
        payment_refresh(payment_id=payment_id, now=now)
    stale_claim = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    lost = Refund.objects.filter(status=RefundStatus.REQUESTED, updated_at__lte=due).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale_claim)
    )
    for refund_id in lost.values_list("pk", flat=True):
        _enqueue_refund(refund_id)
    return len(ids)


# --- webhooks --------------------------------------------------------------------------------------


def webhook_receive(*, event_id: str, event_type: str, payload: dict) -> str:
    """Handles one authenticated gateway event; returns its outcome. An event is processed once: a replay
    of a processed event does nothing. The payment is re-fetched with our secret key; the body is only a
    hint. A fetch failure raises ProviderError and leaves the event unprocessed for the gateway's retry."""
    # The shared secret authenticated the request; stored, it would sit in every row and every backup.
    stored = {key: value for key, value in payload.items() if key != "secret_token"}
    event, _created = WebhookEvent.objects.get_or_create(
        event_id=event_id, defaults={"type": event_type, "payload": stored}
    )
    if event.processed_at is not None:
        return "duplicate"
    payment = None
    if event_type not in WEBHOOK_EVENT_TYPES:
        outcome = "ignored"
    else:
        payment = _payment_named_by(payload)
        if payment is None:
            outcome = "unknown_payment"
        else:
            remote = gateway.payment_fetch(gateway_id=str(payment.pk))
            outcome = payment_apply(payment_id=payment.pk, remote=remote)
    WebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=timezone.now(), outcome=outcome, payment=payment
    )
    return outcome


def _payment_named_by(payload: dict) -> Payment | None:
    data = payload.get("data")
    raw_id = data.get("id") if isinstance(data, dict) else None
    try:
        payment_id = uuid.UUID(str(raw_id))
    except ValueError:
        return None
    return Payment.objects.filter(pk=payment_id).first()


# --- capture, void ---------------------------------------------------------------------------------


def _payment_act(
    *,
    payment_id,
    allowed: Callable[[Payment], bool],
    act: Callable[[Payment], GatewayPayment],
    landed: Callable[[GatewayPayment], bool],
) -> Payment:
    """One manager action at the gateway, under the payment's locks (so actions on one payment take
    turns). Not retried blindly: when the answer is lost, the payment is fetched to see if it landed."""
    with transaction.atomic():
        booking, payment = _lock(payment_id)
        if not allowed(payment):
            raise _invalid_state()
        try:
            remote = act(payment)
        except ProviderError as error:
            if not error.retryable:
                logger.warning("payment %s: the gateway refused the action (%r)", payment.pk, error)
                raise _invalid_state() from error
            try:
                remote = gateway.payment_fetch(gateway_id=str(payment.pk))
            except ProviderError:
                raise _gateway_unavailable() from error
            if not landed(remote):
                raise _gateway_unavailable() from error
        _apply(booking, payment, remote)
    return payment


def payment_capture(*, payment_id, amount_halalas: int | None = None) -> Payment:
    """Captures an authorized payment, in full or `amount_halalas` of it."""

    def allowed(payment: Payment) -> bool:
        if payment.status != Status.AUTHORIZED:
            return False
        if amount_halalas is not None and amount_halalas > payment.amount_halalas:
            raise _invalid_amount(payment.amount_halalas)
        return True

    return _payment_act(
        payment_id=payment_id,
        allowed=allowed,
        act=lambda payment: gateway.payment_capture(gateway_id=str(payment.pk), amount=amount_halalas),
        landed=lambda remote: remote.status == Status.CAPTURED,
    )


def payment_void(*, payment_id) -> Payment:
    """Voids an authorized payment, or a paid one nothing was refunded of (before settlement)."""

    def allowed(payment: Payment) -> bool:
        untouched = payment_refundable_halalas(payment=payment) == payment.settled_halalas
        return payment.status == Status.AUTHORIZED or (payment.status == Status.PAID and untouched)

    return _payment_act(
        payment_id=payment_id,
        allowed=allowed,
        act=lambda payment: gateway.payment_void(gateway_id=str(payment.pk)),
        landed=lambda remote: remote.status == Status.VOIDED,
    )


# --- refunds ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class RefundOutcome:
    status: str  # "succeeded", "failed", "retry", "skipped"
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
        return RefundOutcome("failed")
    Refund.objects.filter(pk=refund.pk).update(last_error=error[:1000], claimed_at=None)
    delay = min(
        settings.CELERY_MAX_RETRY_COUNTDOWN_SECONDS,
        settings.PAYMENT_REFUND_RETRY_BASE_DELAY_SECONDS * 2 ** (refund.attempts - 1),
    )
    return RefundOutcome("retry", retry_in=delay)


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
        return RefundOutcome("skipped")
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
