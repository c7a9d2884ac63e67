"""The bookings-payments seam: payments builds on bookings, never the other way round.

Payments changes bookings only through the booking services made for it (`booking_lock`,
`booking_payment_status_set`, `booking_confirm`, `booking_checkout_complete`). Bookings reaches payments
only through what payments registers here from its AppConfig.ready:

    register_paid_halalas_source(booking_paid_halalas)
    register_refund_request_hook(refunds_request_for_booking)

A paid-halalas source is `source(booking_id=...) -> int`: what the customer paid for the booking and has
not got (nor been promised) back. A refund-request hook is `hook(booking=..., amount_halalas=...,
cause=RefundCause...)`: it runs inside the transaction that cancels or re-prices the booking (the booking
locked), only writes rows and enqueues work on commit; raising rolls the change back.

LOCK ORDER, for every write touching both apps' rows: the booking row first, then its payment rows
(`booking_lock`, then `select_for_update` on the payments). Bookings' own transitions lock the booking
first and payments' refund requests lock payments after it; payments locks the booking before the
payment it acts on. Kept by both sides, writes touching both never deadlock."""

from enum import StrEnum
from typing import Any

from backend.core.hooks import HookList


class RefundCause(StrEnum):
    """Why bookings asks for money back."""

    CANCELLATION = "cancellation"  # the booking was cancelled: the refund its tiers give
    REPRICE = "reprice"  # the booking moved to a lower price: the difference


_paid_sources = HookList()
_refund_requests = HookList()


def register_paid_halalas_source(source) -> None:
    """Adds `source(booking_id=...)`; registering the same source again does nothing."""
    _paid_sources.register(source)


def register_refund_request_hook(hook) -> None:
    """Adds `hook(booking=..., amount_halalas=..., cause=...)`; registering it again does nothing."""
    _refund_requests.register(hook)


def booking_paid_halalas(*, booking_id: int) -> int:
    """What the customer paid for the booking and has not got back, by every registered source."""
    return sum(source(booking_id=booking_id) for source in _paid_sources)


def refund_request_hooks_run(*, booking: Any, amount_halalas: int, cause: RefundCause) -> None:
    for hook in _refund_requests:
        hook(booking=booking, amount_halalas=amount_halalas, cause=cause)
