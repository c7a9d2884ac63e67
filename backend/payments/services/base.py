"""What every payment service shares: the gateway, the state machine, the errors, the row locks
(booking, then payment: backend/bookings/payment_hooks.py), the booking's payment status, the refund task."""

from django.utils.translation import gettext_lazy as _

from backend.bookings.models import Booking
from backend.bookings.models import PaymentStatus as BookingPaymentStatus
from backend.bookings.services import booking_lock, booking_payment_status_set
from backend.core.errors import ApplicationError
from backend.core.tasks import enqueue_on_commit
from backend.payments.models import OPEN_STATUSES, InSalonPayment, Payment, Status
from backend.providers import moyasar
from backend.providers.base import PaymentGateway

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
