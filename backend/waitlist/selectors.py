"""Waitlist reads: the customer's and the salon's entries, the slots an entry may be offered (from the one
availability engine), and the personal data export's section."""

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from backend.accounts.models import User
from backend.bookings import availability
from backend.bookings.models import OCCUPYING_STATUSES, Booking
from backend.bookings.selectors import availability_for
from backend.core.errors import ApplicationError
from backend.salons.models import Salon
from backend.waitlist.models import OfferOutcome, WaitlistEntry, WaitlistOffer

_OPEN_OFFERS = Prefetch(
    "offers", queryset=WaitlistOffer.objects.filter(outcome=OfferOutcome.OPEN), to_attr="open_offers"
)


def waitlist_entries_of(*, user: User) -> QuerySet[WaitlistEntry]:
    """The customer's entries, newest first, each with its open offer."""
    return (
        WaitlistEntry.objects.filter(customer=user)
        .select_related("salon")
        .prefetch_related(_OPEN_OFFERS)
        .order_by("-id")
    )


def waitlist_entries_of_salon(*, salon: Salon, date=None, status: str = "") -> QuerySet[WaitlistEntry]:
    """The salon's entries in join order, on `date` and in `status` when given."""
    entries = (
        WaitlistEntry.objects.filter(salon=salon)
        .select_related("customer", "salon")
        .prefetch_related(_OPEN_OFFERS)
    )
    if date is not None:
        entries = entries.filter(date=date)
    if status:
        entries = entries.filter(status=status)
    return entries.order_by("date", "id")


def open_offer_of(entry: WaitlistEntry) -> WaitlistOffer | None:
    offers = getattr(entry, "open_offers", None)
    if offers is None:
        offers = list(entry.offers.filter(outcome=OfferOutcome.OPEN))
    return offers[0] if offers else None


def _in_window(entry: WaitlistEntry, slot: availability.Slot, salon: Salon) -> bool:
    """The slot starts on or after `from` and ends by `to` (the salon's clock), when they are given."""
    start = slot.start.astimezone(salon.tz)
    if entry.from_time is not None and start.time() < entry.from_time:
        return False
    if entry.to_time is not None:
        end = slot.end.astimezone(salon.tz)
        if end.date() > entry.date or end.time() > entry.to_time:
            return False
    return True


def _customer_busy(*, customer_id: int, salon: Salon, entry_date) -> list[tuple[datetime, datetime]]:
    """The customer's own bookings and offers around that date, anywhere: an offer must not overlap them."""
    day_start = datetime.combine(entry_date, time.min, tzinfo=salon.tz)
    return list(
        Booking.objects.filter(
            customer_id=customer_id,
            status__in=OCCUPYING_STATUSES,
            start__lt=day_start + timedelta(days=2),
            end__gt=day_start - timedelta(days=1),
        ).values_list("start", "end")
    )


class SlotFinder:
    """The slots waiting entries may be offered during one matching round: the engine's slots of each
    (service, staff, date), read once and read again after each offer (an offer takes time)."""

    def __init__(self, *, salon: Salon, now: datetime) -> None:
        self.salon = salon
        self.now = now
        self._slots: dict[tuple[int, int | None, object], list[availability.Slot]] = {}

    def forget(self) -> None:
        self._slots.clear()

    def _slots_of(self, entry: WaitlistEntry) -> list[availability.Slot]:
        key = (entry.service_id, entry.staff_id, entry.date)
        if key not in self._slots:
            try:
                self._slots[key] = availability_for(
                    salon=self.salon,
                    service=entry.service,
                    date_from=entry.date,
                    days=1,
                    staff_id=entry.staff_id,
                    now=self.now,
                )
            except (ValidationError, ApplicationError):
                # The staff member left or no longer performs the service: nothing to offer this entry.
                self._slots[key] = []
        return self._slots[key]

    def candidates(
        self, entry: WaitlistEntry, *, tried: Iterable[tuple[datetime, int]]
    ) -> list[availability.Slot]:
        """The entry's slots in time order: in its window, not offered to it before, not overlapping the
        customer's own bookings."""
        slots = [slot for slot in self._slots_of(entry) if _in_window(entry, slot, self.salon)]
        tried = set(tried)
        slots = [slot for slot in slots if (slot.start, slot.staff_id) not in tried]
        if not slots:
            return []
        busy = _customer_busy(customer_id=entry.customer_id, salon=self.salon, entry_date=entry.date)
        return [
            slot for slot in slots if not any(start < slot.end and slot.start < end for start, end in busy)
        ]


def waitlist_personal_data(*, user: User) -> list[dict]:
    """The waitlist section of the user's data export (GET /me/export/)."""
    return [
        {
            "id": entry.pk,
            "salon": entry.salon.name,
            "service": entry.service.name,
            "staff": entry.staff.name if entry.staff else None,
            "date": entry.date,
            "from": entry.from_time,
            "to": entry.to_time,
            "status": entry.status,
            "created_at": entry.created_at,
            "offers": [
                {
                    "start": offer.start,
                    "end": offer.end,
                    "expires_at": offer.expires_at,
                    "outcome": offer.outcome,
                }
                for offer in entry.offers.all()
            ],
        }
        for entry in WaitlistEntry.objects.filter(customer=user)
        .select_related("salon", "service", "staff")
        .prefetch_related("offers")
        .order_by("id")
    ]
