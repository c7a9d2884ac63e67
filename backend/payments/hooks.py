"""Money events other apps take part in, without payments importing them (e-invoicing issues its documents
here). An app registers from its AppConfig.ready:

    register_payment_received_hook(document_issue_for_payment)
    register_refund_landed_hook(document_issue_for_refund)

A payment-received hook is `hook(payment=...)` with a `Payment` that just became paid or captured, or an
`InSalonPayment` just recorded at checkout; a refund-landed hook is `hook(refund=...)` with a `Refund` that
just succeeded. Both run inside the transaction that records the event, with the booking and payment rows
locked: a hook only writes rows and enqueues work on commit, and raising rolls the event back."""

from typing import Any

from backend.core.hooks import HookList

_payment_received = HookList()
_refund_landed = HookList()


def register_payment_received_hook(hook) -> None:
    """Adds `hook(payment=payment)`; registering the same hook again does nothing."""
    _payment_received.register(hook)


def register_refund_landed_hook(hook) -> None:
    """Adds `hook(refund=refund)`; registering the same hook again does nothing."""
    _refund_landed.register(hook)


def payment_received_hooks_run(*, payment: Any) -> None:
    for hook in _payment_received:
        hook(payment=payment)


def refund_landed_hooks_run(*, refund: Any) -> None:
    for hook in _refund_landed:
        hook(refund=refund)
