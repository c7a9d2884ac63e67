from celery import shared_task

from backend.bookings.services import booking_expire_holds, booking_reminders_write


@shared_task(name="bookings.expire_holds", ignore_result=True)
def expire_holds() -> int:
    """Beat, every minute: unpaid holds past their time are released."""
    return booking_expire_holds()


@shared_task(name="bookings.write_reminders", ignore_result=True)
def write_reminders() -> int:
    """Beat, every minute: reminder rows that have fallen due are written (and delivered after commit)."""
    return booking_reminders_write()
