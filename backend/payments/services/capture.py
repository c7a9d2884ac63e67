"""Manager actions at the gateway on one payment: capture and void."""

import logging
from collections.abc import Callable

from django.db import transaction

from backend.core.http import ProviderError
from backend.payments.models import Payment, Status
from backend.payments.selectors import payment_refundable_halalas
from backend.payments.services.apply import _apply
from backend.payments.services.base import (
    _gateway_unavailable,
    _invalid_amount,
    _invalid_state,
    _lock,
    gateway,
)
from backend.providers.base import GatewayPayment

logger = logging.getLogger(__name__)


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
