"""The customer's messages about their booking: every booking and payment message goes through here."""

from datetime import datetime

from django.utils import translation

from backend.bookings.models import Booking
from backend.notifications.rendering import format_amount, format_when
from backend.notifications.services import notification_create


def booking_notify(
    booking: Booking,
    kind: str,
    *,
    event: str = "",
    amount_halalas: int | None = None,
    refund_halalas: int = 0,
    dedupe_key: str | None = None,
    hold_until: datetime | None = None,
) -> None:
    """Writes the customer's message about their booking in the current transaction: every booking and
    payment message goes through here. `event` tells apart repeated transitions of one kind (each
    reschedule is its own message); `amount_halalas` is the money the message is about (default: the
    price); `dedupe_key` overrides the booking-based one (payments key their messages by payment);
    `hold_until` is the end of a hold the message tells about (a waitlist offer's)."""
    customer = booking.customer
    if not customer.is_active:
        return
    language = customer.language
    money = booking.price_halalas if amount_halalas is None else amount_halalas
    with translation.override(language):
        context = {
            "salon": booking.salon.localized_name,
            "service": booking.service.localized_name,
            "staff": booking.staff.localized_name,
            "when": format_when(booking.start, tz=booking.salon.tz, language=language),
            "amount": format_amount(money, currency=booking.currency, language=language),
        }
        if hold_until is not None:
            context["until"] = format_when(hold_until, tz=booking.salon.tz, language=language)
        if refund_halalas:
            context["refund"] = format_amount(refund_halalas, currency=booking.currency, language=language)
    notification_create(
        kind=kind,
        phone=customer.phone_number,
        language=language,
        context=context,
        dedupe_key=dedupe_key or f"booking:{booking.pk}:{kind}{':' + event if event else ''}",
        recipient=customer,
    )
