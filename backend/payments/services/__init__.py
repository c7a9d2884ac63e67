"""Payments: create with Moyasar, apply what the gateway reports, capture, refund, void, reconcile.

- The payment row is committed before the gateway is called; its id is Moyasar's `given_id`.
- Whatever the gateway reports (create answer, 3-D Secure return, webhook, reconciliation) goes through
  `payment_apply`: under the row locks, through a state machine that never moves backwards (refunded,
  voided and failed are final; amounts only grow), after checking amount and currency against our row.
- Lock order: the booking, then the payment (`_lock`), as backend/bookings/payment_hooks.py sets it.
  Booking rows change only through the booking services made for payments (lock, payment status,
  confirm); cancellations and re-prices reach the refunds here through that module's hook.
- A refund is a `Refund` row committed with its reason, executed once by `refund_execute` (see there).
One module per concern: base (state machine, errors, locks), apply, creation, reconciliation, webhooks,
capture (and void), refunds. The public names are re-exported here. (docs/adr/0006-payments.md)"""

from backend.payments.services.apply import ApplyOutcome, payment_apply
from backend.payments.services.base import (
    MIN_AMOUNT_HALALAS,
    RECEIVED_STATUSES,
    payment_transition_allowed,
)
from backend.payments.services.capture import payment_capture, payment_void
from backend.payments.services.creation import payment_create
from backend.payments.services.reconciliation import payment_refresh, payments_reconcile
from backend.payments.services.refunds import (
    RefundAttempt,
    RefundOutcome,
    payment_refund,
    refund_execute,
    refunds_request_for_booking,
)
from backend.payments.services.webhooks import (
    WEBHOOK_EVENT_TYPES,
    WebhookOutcome,
    webhook_authenticate,
    webhook_receive,
)

__all__ = [
    "MIN_AMOUNT_HALALAS",
    "RECEIVED_STATUSES",
    "WEBHOOK_EVENT_TYPES",
    "ApplyOutcome",
    "RefundAttempt",
    "RefundOutcome",
    "WebhookOutcome",
    "payment_apply",
    "payment_capture",
    "payment_create",
    "payment_refresh",
    "payment_refund",
    "payment_transition_allowed",
    "payment_void",
    "payments_reconcile",
    "refund_execute",
    "refunds_request_for_booking",
    "webhook_authenticate",
    "webhook_receive",
]
