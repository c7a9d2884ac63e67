"""Time that became bookable: the apps that free time (bookings: a cancellation, an expired hold, a
reschedule away, a released offer; salons: time off or a closure removed, hours changed, a staff member
added) announce it here, in the transaction that freed it, and the apps that care (the waitlist) register
a hook from their AppConfig.ready. The announcing app never imports the listening one."""

from collections.abc import Callable
from datetime import date

from backend.core.hooks import HookList

_freed_time = HookList()


def register_freed_time_hook(hook: Callable[..., None]) -> None:
    """Adds `hook(*, salon_id, first_day, last_day, reason)`: local dates of the salon, inclusive; None for
    an open end (hours changed: every date from today)."""
    _freed_time.register(hook)


def freed_time_announce(
    *, salon_id: int, first_day: date | None = None, last_day: date | None = None, reason: str
) -> None:
    """Runs every hook in the caller's transaction: a rollback takes their rows with it."""
    for hook in _freed_time:
        hook(salon_id=salon_id, first_day=first_day, last_day=last_day, reason=reason)
