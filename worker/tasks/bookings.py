from celery import shared_task

from backend.bookings.bulk_cancellations import (
    bookings_cancel_in_the_way,
    bulk_cancellations_sweep,
    cancellation_enqueue,
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


@shared_task(name="bookings.cancel_bookings_in_the_way", ignore_result=True)
def cancel_bookings_in_the_way(kind: str, row_id: int) -> int | None:
    """One batch of a closure's or time off's cancellation (`kind`: closure, time_off), then the next is
    enqueued while bookings are left. Safe to run twice (each booking is checked again under its lock); a
    crash is resumed by the sweep."""
    remaining = bookings_cancel_in_the_way(kind=kind, row_id=row_id)
    if remaining:
        cancellation_enqueue(kind=kind, row_id=row_id)
    return remaining


@shared_task(name="bookings.sweep_bulk_cancellations", ignore_result=True)
def sweep_bulk_cancellations() -> int:
    """Beat, every minute: cancellations left unfinished by a crash or a lost message resume."""
    return bulk_cancellations_sweep()
