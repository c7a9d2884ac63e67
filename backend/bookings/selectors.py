"""Availability reads: load one salon's schedules for a service and date range, then ask the engine.

The slot list and the booking create path both go through `_schedules_load` and the engine
(`backend.bookings.availability`), so the list never offers a slot that booking rejects. Loading takes a
fixed number of queries whatever the number of staff members and days: one per table, keyed by ids."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings import availability
from backend.bookings.models import Booking, BookingStatus
from backend.core.errors import ApplicationError
from backend.salons.models import (
    BusinessHours,
    Closure,
    Salon,
    Service,
    StaffMember,
    StaffService,
    TimeOff,
    WorkingHours,
)


@dataclass(frozen=True)
class _Link:
    """A staff member's terms for one service: their own duration and price, or the service's."""

    duration: timedelta
    price_halalas: int


@dataclass(frozen=True)
class _Schedules:
    rules: availability.SalonRules
    staff: list[availability.StaffSchedule]
    buffer: timedelta
    links: dict[int, _Link]
    # Staff members with an unpaid hold past its time in the loaded range: the engine treats it as free,
    # but the exclusion constraint still sees it until the booking services expire it.
    stale_holds: frozenset[int]


@dataclass(frozen=True)
class StartCheck:
    """One schedule load's answer for a start: each qualified staff member's reason (None: theirs to
    book), their terms for the service, and who has stale holds to expire before an insert."""

    reasons: dict[int, availability.Rejection | None]
    links: dict[int, _Link]
    stale_holds: frozenset[int]


def staff_not_qualified_error() -> ApplicationError:
    return ApplicationError("staff_not_qualified", _("This staff member does not perform this service."))


def _local_midnight_utc(local_date: date, salon: Salon) -> datetime:
    try:
        return datetime.combine(local_date, time.min, tzinfo=salon.tz).astimezone(UTC)
    except OverflowError:  # 1 January of year 1 east of UTC starts before the first instant datetime holds
        return datetime.min.replace(tzinfo=UTC)


def _weekly_hours(rows: Iterable[BusinessHours | WorkingHours]) -> availability.WeeklyHours:
    return availability.WeeklyHours(
        tuple(availability.HoursRange(row.weekday, row.start, row.end) for row in rows)
    )


def _qualified_staff(*, salon: Salon, service: Service, staff_id: int | None) -> dict[int, _Link]:
    """Active staff members of the service's salon who perform it: id -> their terms for it.

    A staff_id that is not in the salon (or not active) is a validation error on `staff`; one who is but
    does not perform the service is `staff_not_qualified`. Both checks cost a query only when they fail."""
    links = StaffService.objects.filter(service=service, staff__salon=salon, staff__is_active=True)
    if staff_id is not None:
        links = links.filter(staff_id=staff_id)
    rows = links.values_list("staff_id", "duration_minutes", "price_halalas")
    terms = {
        link_staff_id: _Link(
            duration=timedelta(minutes=duration or service.duration_minutes),
            price_halalas=service.price_halalas if price is None else price,
        )
        for link_staff_id, duration, price in rows
    }
    if staff_id is not None and not terms:
        if not StaffMember.objects.filter(salon=salon, id=staff_id, is_active=True).exists():
            raise ValidationError({"staff": [_("Unknown staff member.")]})
        raise staff_not_qualified_error()
    return terms


def _schedules_load(
    *,
    salon: Salon,
    service: Service,
    date_from: date,
    days: int,
    staff_id: int | None,
    now: datetime,
    ignore_booking_id: int | None = None,
) -> _Schedules:
    """Everything the engine needs for the local dates date_from .. date_from + days - 1, in 6 queries.

    `ignore_booking_id` leaves one booking out of the busy times (a reschedule must not clash with the
    time it is leaving)."""
    links = _qualified_staff(salon=salon, service=service, staff_id=staff_id)
    staff_ids = list(links)
    range_start = _local_midnight_utc(date_from, salon)
    range_end = _local_midnight_utc(date_from + timedelta(days=days), salon)

    working_hours: dict[int, list[WorkingHours]] = defaultdict(list)
    for row in WorkingHours.objects.filter(staff_id__in=staff_ids):
        working_hours[row.staff_id].append(row)
    time_off: dict[int, list[availability.Interval]] = defaultdict(list)
    for staff_member_id, start, end in TimeOff.objects.filter(
        staff_id__in=staff_ids, start__lt=range_end, end__gt=range_start
    ).values_list("staff_id", "start", "end"):
        time_off[staff_member_id].append(availability.Interval(start, end))
    busy: dict[int, list[availability.Interval]] = defaultdict(list)
    stale_holds: set[int] = set()
    bookings = Booking.objects.filter(staff_id__in=staff_ids).exclude(pk=ignore_booking_id)
    # A slot late on the last day occupies its staff member for its buffer past the range's end.
    for staff_member_id, start, occupied_until, status, hold_expires_at in bookings.occupying(
        start=range_start, end=range_end + service.buffer
    ).values_list("staff_id", "start", "occupied_until", "status", "hold_expires_at"):
        # A hold past its time is as good as expired (the booking services expire it before inserting).
        if status == BookingStatus.PENDING_PAYMENT and hold_expires_at is not None and hold_expires_at <= now:
            stale_holds.add(staff_member_id)
        else:
            busy[staff_member_id].append(availability.Interval(start, occupied_until))

    rules = availability.SalonRules(
        tz=salon.tz,
        # Uses the rows prefetched with the salon (salon_get_public), if any.
        business_hours=_weekly_hours(salon.business_hours.all()),
        closures=frozenset(
            Closure.objects.filter(
                salon=salon, date__gte=date_from, date__lt=date_from + timedelta(days=days)
            ).values_list("date", flat=True)
        ),
        slot_step_minutes=salon.slot_step_minutes,
        min_notice_minutes=salon.min_notice_minutes,
        horizon_days=salon.horizon_days,
    )
    staff = [
        availability.StaffSchedule(
            staff_id=staff_member_id,
            working_hours=_weekly_hours(working_hours[staff_member_id]),
            service_duration=links[staff_member_id].duration,
            time_off=tuple(time_off[staff_member_id]),
            busy=tuple(busy[staff_member_id]),
        )
        for staff_member_id in staff_ids
    ]
    return _Schedules(
        rules=rules, staff=staff, buffer=service.buffer, links=links, stale_holds=frozenset(stale_holds)
    )


def _bookable_window_holds(*, salon: Salon, date_from: date, days: int, now: datetime) -> bool:
    """Whether any of the local dates can have a slot at all: none before today or past the horizon.

    Answering "no slots" here also keeps far-off dates (year 1, year 9999) away from datetime overflow."""
    today = now.astimezone(salon.tz).date()
    last_bookable = (now + timedelta(days=salon.horizon_days)).astimezone(salon.tz).date()
    return date_from <= last_bookable and date_from + timedelta(days=days - 1) >= today


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
    if not _bookable_window_holds(salon=salon, date_from=date_from, days=days, now=now):
        # The checks on `staff` still apply, so a wrong id is a 400 whatever the dates.
        _qualified_staff(salon=salon, service=service, staff_id=staff_id)
        return []
    schedules = _schedules_load(
        salon=salon, service=service, date_from=date_from, days=days, staff_id=staff_id, now=now
    )
    return availability.slots_for_any_staff(
        rules=schedules.rules,
        staff_members=schedules.staff,
        buffer=schedules.buffer,
        date_from=date_from,
        days=days,
        now=now,
    )


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
    schedules = _schedules_load(
        salon=salon,
        service=service,
        date_from=start.astimezone(salon.tz).date(),
        days=1,
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


# --- Who may see and act on a booking -----------------------------------------------------------------


def user_works_at_salon(*, user: User, salon_id: int) -> bool:
    """Staff and managers of the salon, and platform admins, act for the salon."""
    if user.is_superuser:
        return True
    if Salon.objects.filter(pk=salon_id, managers=user).exists():
        return True
    return StaffMember.objects.filter(salon_id=salon_id, user=user, is_active=True).exists()


def booking_list_for_user(*, user: User) -> QuerySet[Booking]:
    """The bookings `user` may see: their own as a customer, and every booking of the salons they work
    at; platform admins see all."""
    bookings = Booking.objects.select_related("salon")
    if user.is_superuser:
        return bookings
    managed = Salon.objects.filter(managers=user).values("pk")
    staffed = StaffMember.objects.filter(user=user, is_active=True).values("salon_id")
    return bookings.filter(Q(customer=user) | Q(salon_id__in=managed) | Q(salon_id__in=staffed))


def booking_get_for_user(*, user: User, booking_id: int) -> Booking:
    """The booking if `user` may see it; Http404 otherwise, existing or not."""
    return get_object_or_404(booking_list_for_user(user=user), pk=booking_id)


def booking_personal_data(*, user: User) -> list[dict]:
    """The bookings section of the user's data export (GET /me/export/)."""
    return [
        {
            "id": booking.pk,
            "salon": booking.salon.name,
            "service": booking.service.name,
            "staff": booking.staff.name,
            "start": booking.start,
            "end": booking.end,
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
        .order_by("start")
    ]
