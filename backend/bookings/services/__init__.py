"""The booking lifecycle: one function per transition, each checking its allowed from-states under a row
lock, each writing its notification rows in the same transaction.

No double booking, whatever the concurrency: a start is validated by the same engine that lists the
slots; the insert happens in a transaction holding the staff member's row lock, after re-checking under
it; and the database's exclusion constraint (booking_staff_no_overlap) refuses any overlap that would
still get through. Losing a race is a clean 409 `slot_unavailable`, never a 500.

One module per concern (rejections, notify, create, transitions, reschedule, holds, cancellations,
reminders, offers, freed); the public names are re-exported here."""

from backend.bookings.services.cancellations import (
    STAFF_CANCEL_BATCH,
    BulkCancellation,
    bookings_cancel_for_deleted_account,
    bookings_cancel_upcoming_of_staff,
)
from backend.bookings.services.create import LocksBusy, booking_create, booking_offer_hold
from backend.bookings.services.holds import booking_expire_holds
from backend.bookings.services.notify import booking_notify
from backend.bookings.services.offers import booking_offer_accept, booking_offer_release, offer_expired_error
from backend.bookings.services.rejections import EXCLUSION_CONSTRAINT, rejection_error
from backend.bookings.services.reminders import booking_reminders_write
from backend.bookings.services.reschedule import Rescheduled, booking_reschedule
from backend.bookings.services.transitions import (
    booking_cancel,
    booking_checkout_complete,
    booking_complete,
    booking_confirm,
    booking_lock,
    booking_mark_no_show,
    booking_payment_status_set,
)

__all__ = [
    "EXCLUSION_CONSTRAINT",
    "STAFF_CANCEL_BATCH",
    "BulkCancellation",
    "LocksBusy",
    "Rescheduled",
    "booking_cancel",
    "booking_checkout_complete",
    "booking_complete",
    "booking_confirm",
    "booking_create",
    "booking_expire_holds",
    "booking_lock",
    "booking_mark_no_show",
    "booking_notify",
    "booking_offer_accept",
    "booking_offer_hold",
    "booking_offer_release",
    "booking_payment_status_set",
    "booking_reminders_write",
    "booking_reschedule",
    "bookings_cancel_for_deleted_account",
    "bookings_cancel_upcoming_of_staff",
    "offer_expired_error",
    "rejection_error",
]
