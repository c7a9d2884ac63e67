"""Loading one salon's schedules for a sequence of services (one, or a visit's) and a date range.

The slot list and the booking create path both go through `schedules_load` and the engine
(`backend.bookings.availability`, `backend.bookings.visits`), so the list never offers a slot that booking
rejects. Loading is one SQL statement whatever the number of services, staff members and days
(`_schedule_sql`)."""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from psycopg import adapters as psycopg_adapters
from psycopg.pq import Format

from backend.bookings import availability
from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingItem, BookingStatus
from backend.bookings.weeks import week_from_json
from backend.core.errors import ApplicationError
from backend.salons.models import (
    BusinessHours,
    Closure,
    Salon,
    Service,
    SpecialHours,
    StaffMember,
    StaffService,
    TimeOff,
    WorkingHours,
)


@dataclass(frozen=True)
class StaffTerms:
    """A staff member's terms for one service: their own duration and price, or the service's."""

    duration: timedelta
    price_halalas: int


@dataclass(frozen=True)
class Schedules:
    rules: availability.SalonRules
    services: tuple[Service, ...]
    # service id -> staff id -> terms; and the engine's schedules per service, in staff id order
    terms: dict[int, dict[int, StaffTerms]]
    staff_by_service: dict[int, list[availability.StaffSchedule]]
    # Staff members with an unpaid hold past its time in the loaded range: the engine treats it as free,
    # but the exclusion constraint still sees it until the booking services expire it.
    stale_holds: frozenset[int]
    # The customer's active visits in the salon, when asked for (a create's customer_busy check).
    customer_visits: tuple[availability.Interval, ...] = ()

    def customer_busy(self, start: datetime, end: datetime) -> bool:
        return any(visit.start < end and start < visit.end for visit in self.customer_visits)

    # The one-service view (the first service's), as the single-service callers read it.
    @property
    def staff(self) -> list[availability.StaffSchedule]:
        return self.staff_by_service[self.services[0].pk]

    @property
    def links(self) -> dict[int, StaffTerms]:
        return self.terms[self.services[0].pk]

    @property
    def buffer(self) -> timedelta:
        return self.services[0].buffer


def staff_not_qualified_error() -> ApplicationError:
    return ApplicationError("staff_not_qualified", _("This staff member does not perform this service."))


def _local_midnight_utc(local_date: date, salon: Salon) -> datetime:
    try:
        return datetime.combine(local_date, time.min, tzinfo=salon.tz).astimezone(UTC)
    except OverflowError:  # 1 January of year 1 east of UTC starts before the first instant datetime holds
        return datetime.min.replace(tzinfo=UTC)


def _days_after(local_date: date, days: int) -> date:
    """local_date + days, held to the dates `date` can say (a start in year 1 or 9999 is refused later)."""
    try:
        return local_date + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max


def _special_hours(rows: list[tuple[date, int, str]]) -> tuple[availability.SpecialHours, ...]:
    """Spans from the loader's rows: first date, days to the last, the week as the API saved it."""
    return tuple(
        availability.SpecialHours(
            first_day, first_day + timedelta(days=length), week_from_json(json.loads(hours))
        )
        for first_day, length, hours in rows
    )


def _staff_refusal(*, salon: Salon, staff_id: int) -> Exception:
    """Why a staff member has no terms for the service: not an active member of this salon (a validation
    error on `staff`), or one who does not perform it. Asked only when the load found nobody."""
    if not StaffMember.objects.filter(salon=salon, id=staff_id, is_active=True).exists():
        return ValidationError({"staff": [_("Unknown staff member.")]})
    return staff_not_qualified_error()


def _refuse_unqualified_staff(*, salon: Salon, service: Service, staff_id: int | None) -> None:
    """The checks on `staff` alone, for a request that needs no schedule (dates with no bookable day)."""
    if staff_id is None:
        return
    performs = StaffService.objects.filter(
        service=service, staff_id=staff_id, staff__salon=salon, staff__is_active=True
    )
    if not performs.exists():
        raise _staff_refusal(salon=salon, staff_id=staff_id)


# psycopg's own (C) timestamptz loader for the schedule statement: Django's parses each value in Python, then
# sets the session's zone, which psycopg's gives already. Same datetimes; a busy week has ~1,000 (issue 17).
_TIMESTAMPTZ_LOADER = psycopg_adapters.get_loader(psycopg_adapters.types["timestamptz"].oid, Format.TEXT)


@cache
def _schedule_sql() -> str:
    """The loader's one statement. Each branch reads one table through its index, as a query of its own
    would; they come back as one result, a row per fact tagged by its kind, so a schedule costs one round
    trip and no query building whatever the staff count and days (docs/adr/0005-availability.md).

    Columns: kind, staff_id, number (weekday, the link's duration, or a special-hours span's days after
    its first), price, from_time, to_time (weekly hours), from_at, to_at (time off, a booking's
    occupation), status (a booking's; a span's hours as JSON), hold_expires_at, day (a closed date: a
    closure over several days is a row for each of its dates in the range; a span's first date),
    service_id (the link's). A special-hours span with no staff id is the salon's."""
    tables = {
        "link": StaffService._meta.db_table,
        "member": StaffMember._meta.db_table,
        "working": WorkingHours._meta.db_table,
        "business": BusinessHours._meta.db_table,
        "closure": Closure._meta.db_table,
        "time_off": TimeOff._meta.db_table,
        "booking": Booking._meta.db_table,
        "item": BookingItem._meta.db_table,
        "special": SpecialHours._meta.db_table,
    }
    return """
WITH links AS (
    SELECT link.service_id, link.staff_id, link.duration_minutes, link.price_halalas
    FROM {link} link JOIN {member} member ON member.id = link.staff_id
    WHERE link.service_id = ANY(%(services)s) AND member.salon_id = %(salon)s AND member.is_active
      AND (%(staff)s::bigint IS NULL OR link.staff_id = %(staff)s::bigint)
), qualified AS (
    SELECT DISTINCT staff_id FROM links
)
SELECT 'terms', staff_id, duration_minutes::int, price_halalas::bigint, NULL::time, NULL::time,
       NULL::timestamptz, NULL::timestamptz, NULL::text, NULL::timestamptz, NULL::date, service_id::bigint
FROM links
UNION ALL
SELECT 'working', staff_id, weekday, NULL, start, "end", NULL, NULL, NULL, NULL, NULL, NULL
FROM {working} WHERE staff_id IN (SELECT staff_id FROM qualified)
UNION ALL
SELECT 'business', NULL, weekday, NULL, start, "end", NULL, NULL, NULL, NULL, NULL, NULL
FROM {business} WHERE salon_id = %(salon)s
UNION ALL
SELECT 'closure', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, day::date, NULL
FROM {closure},
     generate_series(
         GREATEST(date, %(first_day)s)::timestamp, LEAST(end_date, %(last_day)s)::timestamp, interval '1 day'
     ) AS day
WHERE salon_id = %(salon)s AND date <= %(last_day)s AND end_date >= %(first_day)s
UNION ALL
SELECT 'time_off', staff_id, NULL, NULL, NULL, NULL, start, "end", NULL, NULL, NULL, NULL
FROM {time_off}
WHERE staff_id IN (SELECT staff_id FROM qualified) AND start < %(range_end)s AND "end" > %(range_start)s
UNION ALL
SELECT 'busy', item.staff_id, NULL, NULL, NULL, NULL, item.start, item.occupied_until, booking.status,
       booking.hold_expires_at, NULL, NULL
FROM {item} item JOIN {booking} booking ON booking.id = item.booking_id
WHERE item.staff_id IN (SELECT staff_id FROM qualified) AND item.active
  AND item.start < %(busy_end)s AND item.occupied_until > %(range_start)s
  AND (%(ignore)s::bigint IS NULL OR item.booking_id <> %(ignore)s::bigint)
UNION ALL
SELECT 'customer', NULL, NULL, NULL, NULL, NULL, start, "end", status, hold_expires_at, NULL, NULL
FROM {booking}
WHERE customer_id = %(customer)s::bigint AND salon_id = %(salon)s AND status = ANY(%(active)s)
  AND start < %(busy_end)s AND "end" > %(range_start)s
  AND (%(ignore)s::bigint IS NULL OR id <> %(ignore)s::bigint)
UNION ALL
SELECT 'special', staff_id, end_date - start_date, NULL, NULL, NULL, NULL, NULL, hours::text, NULL,
       start_date, NULL
FROM {special}
WHERE salon_id = %(salon)s AND (staff_id IS NULL OR staff_id IN (SELECT staff_id FROM qualified))
  AND start_date <= %(end_day)s AND end_date >= %(first_day)s
ORDER BY 1, 2
""".format(**tables)  # noqa: S608 - the table names are ours, every value a parameter


def schedules_load(
    *,
    salon: Salon,
    services: Sequence[Service],
    date_from: date,
    days: int,
    staff_id: int | None,
    now: datetime,
    ignore_booking_id: int | None = None,
    customer_id: int | None = None,
) -> Schedules:
    """Everything the engine needs for the local dates date_from .. date_from + days - 1, in one statement,
    for each of `services` (a visit's, in order; repeats allowed).

    `ignore_booking_id` leaves one booking out of the busy times (a reschedule must not clash with the
    time it is leaving); `customer_id` reads that customer's visits in the salon too (`customer_busy`). An
    unknown staff member is a ValidationError, one without a service
    `staff_not_qualified` (a query more, only then). Ranges run into the next day and the day before's
    decide what the first date owns: rows are read from the day before to the end of the one after. A
    visit's later items may run into the day after the range: for several services, a day more is read."""
    if len(services) > 1:
        days += 1
    range_start = _local_midnight_utc(date_from, salon)
    range_end = _local_midnight_utc(_days_after(date_from, days + 1), salon)
    parameters = {
        "salon": salon.pk,
        "services": [service.pk for service in services],
        "staff": staff_id,
        "first_day": _days_after(date_from, -1),  # the day before: its night ranges spill into ours
        "last_day": _days_after(date_from, days - 1),
        "end_day": _days_after(date_from, days),
        "range_start": range_start,
        "range_end": range_end,
        # A slot late on the last day occupies its staff member for its buffer past the range's end.
        "busy_end": range_end + max(service.buffer for service in services),
        "ignore": ignore_booking_id,
        "customer": customer_id,
        "active": list(ACTIVE_STATUSES),
    }
    terms: dict[int, dict[int, StaffTerms]] = {service.pk: {} for service in services}
    by_id = {service.pk: service for service in services}
    working_hours: dict[int, list[availability.HoursRange]] = defaultdict(list)
    business_hours: list[availability.HoursRange] = []
    closures: set[date] = set()
    time_off: dict[int, list[availability.Interval]] = defaultdict(list)
    busy: dict[int, list[availability.Interval]] = defaultdict(list)
    special: dict[int | None, list[tuple[date, int, str]]] = defaultdict(list)
    stale_holds: set[int] = set()
    customer_visits: list[availability.Interval] = []
    # A replica when the view reads from one; the primary inside the create path's transaction.
    with connections[router.db_for_read(Booking)].cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _TIMESTAMPTZ_LOADER)  # this cursor's only
        cursor.execute(_schedule_sql(), parameters)
        rows = cursor.fetchall()
    for (
        kind,
        row_staff_id,
        number,
        price,
        from_time,
        to_time,
        from_at,
        to_at,
        status,
        hold_until,
        day,
        service_id,
    ) in rows:
        if kind == "terms":
            service = by_id[service_id]
            terms[service_id][row_staff_id] = StaffTerms(
                duration=timedelta(minutes=number or service.duration_minutes),
                price_halalas=service.price_halalas if price is None else price,
            )
        elif kind == "working":
            working_hours[row_staff_id].append(availability.HoursRange(number, from_time, to_time))
        elif kind == "business":
            business_hours.append(availability.HoursRange(number, from_time, to_time))
        elif kind == "closure":
            closures.add(day)
        elif kind == "special":
            special[row_staff_id].append((day, number, status))
        elif kind == "time_off":
            time_off[row_staff_id].append(availability.Interval(from_at, to_at))
        elif kind == "customer":
            if not (status == BookingStatus.PENDING_PAYMENT and hold_until is not None and hold_until <= now):
                customer_visits.append(availability.Interval(from_at, to_at))
        elif kind == "busy":
            if status == BookingStatus.PENDING_PAYMENT and hold_until is not None and hold_until <= now:
                # A hold past its time is as good as expired (the booking services expire it first).
                stale_holds.add(row_staff_id)
            else:
                busy[row_staff_id].append(availability.Interval(from_at, to_at))
    if staff_id is not None and not all(terms.values()):
        if not any(terms.values()):
            raise _staff_refusal(salon=salon, staff_id=staff_id)
        raise staff_not_qualified_error()

    rules = availability.SalonRules(
        tz=salon.tz,
        business_hours=availability.WeeklyHours(tuple(business_hours)),
        closures=frozenset(closures),
        slot_step_minutes=salon.slot_step_minutes,
        min_notice_minutes=salon.min_notice_minutes,
        horizon_days=salon.horizon_days,
        special_hours=_special_hours(special[None]),
    )
    staff_by_service = {
        service_pk: [
            availability.StaffSchedule(
                staff_id=staff_member_id,
                working_hours=availability.WeeklyHours(tuple(working_hours[staff_member_id])),
                service_duration=staff_terms.duration,
                time_off=tuple(time_off[staff_member_id]),
                busy=tuple(busy[staff_member_id]),
                special_hours=_special_hours(special[staff_member_id]),
            )
            for staff_member_id, staff_terms in sorted(links.items())
        ]
        for service_pk, links in terms.items()
    }
    return Schedules(
        rules=rules,
        services=tuple(services),
        terms=terms,
        staff_by_service=staff_by_service,
        stale_holds=frozenset(stale_holds),
        customer_visits=tuple(customer_visits),
    )


def _dates_within_horizon(*, salon: Salon, date_from: date, days: int, now: datetime) -> bool:
    """Whether any of the local dates can have a slot at all: none before today or past the horizon.

    Answering "no slots" here also keeps far-off dates (year 1, year 9999) away from datetime overflow."""
    today = now.astimezone(salon.tz).date()
    last_bookable = (now + timedelta(days=salon.horizon_days)).astimezone(salon.tz).date()
    return date_from <= last_bookable and date_from + timedelta(days=days - 1) >= today
