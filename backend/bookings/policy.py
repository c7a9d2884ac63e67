"""The cancellation refund rule and the reschedule rule built on it, as pure functions (the contract's
"Cancellation refunds" and "rescheduled only while cancelling would still refund everything")."""

from collections.abc import Iterable, Mapping
from datetime import timedelta


def refund_for_cancellation(
    *,
    paid_halalas: int,
    policy: Iterable[Mapping[str, int]],
    time_left: timedelta,
    by_salon: bool,
) -> int:
    """How much of what was paid goes back.

    A cancellation by the salon refunds everything paid. Otherwise the tier with the largest
    `hours_before` that is <= the hours left before the start applies; with none (a cancellation later
    than the smallest tier), nothing is refunded. Rounded down to the halala: never more than the policy."""
    if paid_halalas <= 0:
        return 0
    if by_salon:
        return paid_halalas
    hours_left = time_left / timedelta(hours=1)
    applicable = [tier for tier in policy if tier["hours_before"] <= hours_left]
    if not applicable:
        return 0
    tier = max(applicable, key=lambda tier: tier["hours_before"])
    return paid_halalas * tier["refund_percent"] // 100


def customer_may_reschedule(
    *, paid_halalas: int, policy: Iterable[Mapping[str, int]], time_left: timedelta
) -> bool:
    """The contract's reschedule rule: a paid booking may be moved by its customer only while cancelling
    it would still refund everything paid (else moving it out and cancelling would dodge the tiers); an
    unpaid one always (the other booking rules still apply)."""
    full = refund_for_cancellation(
        paid_halalas=paid_halalas, policy=policy, time_left=time_left, by_salon=False
    )
    return full == paid_halalas
