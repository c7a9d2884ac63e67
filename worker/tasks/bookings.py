from celery import shared_task

from backend.bookings.closures import (
    closure_cancel_bookings_batch,
    closure_cancellation_enqueue,
    closure_cancellations_sweep,
)
from backend.bookings.services import booking_expire_holds, booking_reminders_write


@shared_task(name="bookings.expire_holds", ignore_result=True)
def expire_holds() -> int:
    """Beat, every minute: unpaid holds past their time are released."""
    return booking_expire_holds()


@shared_task(name="bookings.write_reminders", ignore_result=True)
def write_reminders() -> int:
    """Beat, every minute: reminder rows that have fallen due are written (and delivered after commit)."""
    return booking_reminders_write()


@shared_task(name="bookings.cancel_closure_bookings", ignore_result=True)
def cancel_closure_bookings(closure_id: int) -> int | None:
    """One batch of a closure's cancellation, then the next is enqueued while bookings are left. Safe to run
    twice (each booking is checked again under its lock); a crash is resumed by the sweep."""
    remaining = closure_cancel_bookings_batch(closure_id=closure_id)
    if remaining:
        closure_cancellation_enqueue(closure_id=closure_id)
    return remaining


@shared_task(name="bookings.sweep_closure_cancellations", ignore_result=True)
def sweep_closure_cancellations() -> int:
    """Beat, every minute: closure cancellations left unfinished by a crash or a lost message resume."""
    return closure_cancellations_sweep()
