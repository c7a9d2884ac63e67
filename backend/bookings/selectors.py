"""Availability reads: load one salon's schedules (`backend.bookings.schedules`), then ask the engine.

The slot list and the booking create path both go through `schedules_load` and the engines
(`backend.bookings.availability` for one service, `backend.bookings.visits` for a visit's sequence), so the
list never offers a slot that booking rejects."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone

from backend.accounts.models import User
from backend.bookings import availability, visits
from backend.bookings.models import Booking, BookingItem
from backend.bookings.schedules import (
    Schedules,
    StaffTerms,
    _dates_within_horizon,
    _days_after,
    _refuse_unqualified_staff,
    _staff_refusal,
    schedules_load,
)
from backend.core.errors import ApplicationError
from backend.salons.models import Salon, Service


@dataclass(frozen=True)
class StartCheck:
    """One schedule load's answer for a start: each qualified staff member's reason (None: theirs to
    book), their terms for the service, and who has stale holds to expire before an insert."""

    reasons: dict[int, availability.Rejection | None]
    links: dict[int, StaffTerms]
    stale_holds: frozenset[int]


def availability_for(
    *,
    salon: Salon,
    service: Service,
    date_from: date,
    days: int,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> list[availability.Slot]:
    """The bookable slots of `service` on the salon's local dates date_from .. date_from + days - 1, sorted
    by start then staff id; with `staff_id`, only that staff member's. Times are in UTC."""
    now = now or timezone.now()
    if not _dates_within_horizon(salon=salon, date_from=date_from, days=days, now=now):
        # The checks on `staff` still apply, so a wrong id is a 400 whatever the dates.
        _refuse_unqualified_staff(salon=salon, service=service, staff_id=staff_id)
        return []
    schedules = schedules_load(
        salon=salon, services=[service], date_from=date_from, days=days, staff_id=staff_id, now=now
    )
    return availability.slots_for_any_staff(
        rules=schedules.rules,
        staff_members=schedules.staff,
        buffer=schedules.buffer,
        date_from=date_from,
        days=days,
        now=now,
    )


def salon_open_on(*, salon: Salon, service: Service, local_date: date, now: datetime | None = None) -> bool:
    """Whether the salon has hours on its local date (the waitlist refuses a date that has none)."""
    schedules = schedules_load(
        salon=salon,
        services=[service],
        date_from=local_date,
        days=1,
        staff_id=None,
        now=now or timezone.now(),
    )
    return availability.salon_open_on(rules=schedules.rules, local_date=local_date)


def start_check(
    *,
    salon: Salon,
    service: Service,
    start: datetime,
    staff_id: int | None = None,
    now: datetime | None = None,
    ignore_booking_id: int | None = None,
) -> StartCheck:
    """For each qualified staff member (only `staff_id`'s when given), None if `start` is a slot that
    availability_for offers them, else why not (engine reason codes). The booking services decide with
    this, so booking accepts exactly what the list offers. An unknown staff member is a ValidationError,
    one without the service `staff_not_qualified`."""
    now = now or timezone.now()
    # The start may be in the night range of the day before its own date.
    schedules = schedules_load(
        salon=salon,
        services=[service],
        date_from=_days_after(start.astimezone(salon.tz).date(), -1),
        days=2,
        staff_id=staff_id,
        now=now,
        ignore_booking_id=ignore_booking_id,
    )
    reasons = {
        schedule.staff_id: availability.check_start(
            rules=schedules.rules, staff=schedule, buffer=schedules.buffer, start=start, now=now
        )
        for schedule in schedules.staff
    }
    return StartCheck(reasons=reasons, links=schedules.links, stale_holds=schedules.stale_holds)


# --- Visits: several services back to back -------------------------------------------------------------


def _visit_steps(schedules: Schedules, pins: Sequence[int | None] = ()) -> list[visits.VisitStep]:
    """The engine's steps, one per service in order; a pinned item keeps only its staff member."""
    steps = []
    for index, service in enumerate(schedules.services):
        candidates = schedules.staff_by_service[service.pk]
        pin = pins[index] if pins else None
        if pin is not None:
            candidates = [schedule for schedule in candidates if schedule.staff_id == pin]
        steps.append(
            visits.VisitStep(staff=tuple(candidates), buffer=service.buffer, processing=service.processing)
        )
    return steps


def visit_availability_for(
    *,
    salon: Salon,
    services: Sequence[Service],
    date_from: date,
    days: int,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> list[visits.VisitSlot]:
    """The starts at which the whole sequence fits on the salon's local dates date_from .. + days - 1,
    sorted by start then first staff id; with `staff_id`, that staff member for every item."""
    now = now or timezone.now()
    if not _dates_within_horizon(salon=salon, date_from=date_from, days=days, now=now):
        for service in dict.fromkeys(services):
            _refuse_unqualified_staff(salon=salon, service=service, staff_id=staff_id)
        return []
    schedules = schedules_load(
        salon=salon, services=services, date_from=date_from, days=days, staff_id=staff_id, now=now
    )
    return visits.visit_slots(
        rules=schedules.rules, steps=_visit_steps(schedules), date_from=date_from, days=days, now=now
    )


@dataclass(frozen=True)
class VisitCheck:
    """One schedule load's answer for a visit start: the visits it allows (one per first staff member, in
    staff id order) or why none; the terms of every staff member for every service, and stale holds."""

    outcome: list[visits.VisitSlot] | visits.VisitRefusal
    schedules: Schedules

    def terms(self, index: int, staff_id: int) -> StaffTerms:
        return self.schedules.terms[self.schedules.services[index].pk][staff_id]


def visit_check(
    *,
    salon: Salon,
    services: Sequence[Service],
    start: datetime,
    pins: Sequence[int | None],
    now: datetime | None = None,
    ignore_booking_id: int | None = None,
    customer_id: int | None = None,
) -> VisitCheck:
    """Whether the visit can start at `start` with the staff members pinned per item (None: anyone),
    by the very search the slot list runs; with `customer_id`, that customer's visits in the salon are
    read in the same statement (`schedules.customer_busy`). A pinned staff member unknown here is a
    ValidationError, one without the item's service `staff_not_qualified` (naming the item)."""
    now = now or timezone.now()
    shared = set(pins)
    schedules = schedules_load(
        salon=salon,
        services=services,
        date_from=_days_after(start.astimezone(salon.tz).date(), -1),
        days=2,
        staff_id=pins[0] if len(shared) == 1 else None,
        now=now,
        ignore_booking_id=ignore_booking_id,
        customer_id=customer_id,
    )
    for index, (service, pin) in enumerate(zip(services, pins, strict=True)):
        if pin is not None and pin not in schedules.terms[service.pk]:
            error = _staff_refusal(salon=salon, staff_id=pin)
            if isinstance(error, ApplicationError):
                error.extra["item"] = index
            raise error
    outcome = visits.visit_options(
        rules=schedules.rules, steps=_visit_steps(schedules, pins), start=start, now=now
    )
    return VisitCheck(outcome=outcome, schedules=schedules)


# --- Personal data -------------------------------------------------------------------------------------


def booking_personal_data(*, user: User) -> list[dict]:
    """The bookings section of the user's data export (GET /me/export/): each booking with its `items`
    (every service of a visit, with its staff member and times; one for a one-service booking). Two
    queries whatever the bookings: them, then their items with their services and staff."""
    items = BookingItem.objects.select_related("service", "staff").order_by("position")
    return [
        {
            "id": booking.pk,
            "salon": booking.salon.name,
            "service": booking.service.name,
            "staff": booking.staff.name,
            "start": booking.start,
            "end": booking.end,
            "items": [
                {
                    "service": item.service.name,
                    "staff": item.staff.name,
                    "start": item.start,
                    "end": item.end,
                    "price_halalas": item.price_halalas,
                }
                for item in booking.items.all()
            ],
            "status": booking.status,
            "price_halalas": booking.price_halalas,
            "currency": booking.currency,
            "payment_status": booking.payment_status,
            "cancelled_at": booking.cancelled_at,
            "cancellation_reason": booking.cancellation_reason,
            "refund_halalas": booking.refund_halalas,
            "created_at": booking.created_at,
        }
        for booking in Booking.objects.filter(customer=user)
        .select_related("salon", "service", "staff")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("start")
    ]
