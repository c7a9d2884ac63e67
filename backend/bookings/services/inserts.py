"""The one path by which a booking row comes to exist: a visit of 1 to 5 items, inserted with its items.

Every creator (a customer's create, a waitlist offer's hold) calls `booking_insert` inside its own
transaction, after taking the locks and running the checks its path needs; the database then guards the
items' occupations (the exclusion constraint booking_staff_no_overlap)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.bookings.models import Booking, BookingItem
from backend.salons.models import Salon, Service, StaffMember


@dataclass(frozen=True)
class PlannedItem:
    """One item as checked: its service, staff member, start, duration and price for that staff member."""

    service: Service
    staff: StaffMember
    start: datetime
    duration: timedelta
    price_halalas: int

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def occupied_until(self) -> datetime:
        return self.end + self.service.buffer


def item_rows(booking: Booking, planned: Sequence[PlannedItem]) -> list[BookingItem]:
    return [
        BookingItem(
            booking=booking,
            position=position,
            service=item.service,
            staff=item.staff,
            start=item.start,
            end=item.end,
            occupied_until=item.occupied_until,
            price_halalas=item.price_halalas,
        )
        for position, item in enumerate(planned)
    ]


def visit_summary(planned: Sequence[PlannedItem]) -> dict:
    """The booking's own columns from its items: the first item's service and staff member, the first
    start, the last end, the latest occupation's end and the sum of the prices."""
    first = planned[0]
    return {
        "service": first.service,
        "staff": first.staff,
        "start": first.start,
        "end": planned[-1].end,
        "occupied_until": max(item.occupied_until for item in planned),
        "price_halalas": sum(item.price_halalas for item in planned),
    }


def booking_insert(
    *,
    customer,
    salon: Salon,
    planned: Sequence[PlannedItem],
    status: str,
    now: datetime,
    hold_until: datetime | None = None,
) -> Booking:
    """Inserts the booking and its items (in the caller's transaction, under the caller's locks); an
    overlap with another occupation raises the IntegrityError of booking_staff_no_overlap. With
    `hold_until`, the booking is held until then (`hold_expires_at`: a prepayment hold or an offer)."""
    booking = Booking.objects.create(
        salon=salon,
        customer=customer,
        status=status,
        hold_expires_at=hold_until,
        currency=planned[0].service.currency,
        scheduled_at=now,
        **visit_summary(planned),
    )
    _remember_items(booking, BookingItem.objects.bulk_create(item_rows(booking, planned)))
    return booking


def _remember_items(booking: Booking, rows: list[BookingItem]) -> None:
    """Keeps the rows just written as the booking's prefetched items (as prefetch_related leaves them), so
    answering with the booking reads them again from nowhere."""
    items = booking.items.all()
    items._result_cache = rows
    items._prefetch_done = True
    booking._prefetched_objects_cache = {"items": items}


def booking_items_replace(booking: Booking, planned: Sequence[PlannedItem], *, now: datetime) -> None:
    """A reschedule: the booking (locked by the caller) takes the planned items' times, staff and prices;
    its old occupations go first, so the new ones clash only with others'."""
    for field, value in visit_summary(planned).items():
        setattr(booking, field, value)
    booking.scheduled_at = now
    BookingItem.objects.filter(booking=booking).delete()
    booking.save(
        update_fields=[
            "service",
            "staff",
            "start",
            "end",
            "occupied_until",
            "price_halalas",
            "scheduled_at",
            "updated_at",
        ]
    )
    _remember_items(booking, BookingItem.objects.bulk_create(item_rows(booking, planned)))
