"""The customer's messages about their booking: every booking and payment message goes through here."""

from datetime import datetime

from django.utils import translation

from backend.bookings.models import Booking, BookingItem
from backend.notifications.rendering import format_amount, format_when
from backend.notifications.services import notification_create


def _items_of(booking: Booking) -> list[BookingItem]:
    """The visit's items with their services and staff: those a create or reschedule left on the booking
    (with both), or read in one query; a booking written without items (never by the services) is its
    own one item."""
    if "items" in getattr(booking, "_prefetched_objects_cache", {}):
        items = list(booking.items.all())
    else:
        items = list(booking.items.select_related("service", "staff"))
    return items or [BookingItem(service=booking.service, staff=booking.staff)]


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
    items = _items_of(booking)
    separator = "، " if language == "ar" else ", "
    with translation.override(language):
        context = {
            "salon": booking.salon.localized_name,
            # A visit lists every item: "Colour, Blow-dry with Sara, Omar".
            "service": separator.join(item.service.localized_name for item in items),
            "staff": separator.join(dict.fromkeys(item.staff.localized_name for item in items)),
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
