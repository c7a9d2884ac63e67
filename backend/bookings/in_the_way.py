"""What a salon's time off, closure or special hours is in the way of: bookings' side of the salons-bookings
seam (salons/booking_hooks.py; registered in apps.py). The same definitions count `bookings_in_the_way`
and choose what a requested cancellation cancels (bulk_cancellations.py):
- a time off: the staff member's bookings overlapping it;
- a closure: the salon's bookings starting on its local dates;
- special hours: the owner's active bookings starting on its dates that its hours no longer hold (the whole
  service inside one range)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate

from backend.bookings import weeks
from backend.bookings.models import ACTIVE_STATUSES, Booking
from backend.salons.booking_hooks import InTheWayCounter
from backend.salons.models import Salon, SpecialHours, StaffMember
from backend.salons.special_hours import special_hours_list


def _active_bookings_count(bookings: QuerySet[Booking]) -> Coalesce:
    """How many of `bookings` (filtered against OuterRef) are active, as a subquery of the outer row."""
    active = bookings.filter(status__in=ACTIVE_STATUSES).order_by()
    count = active.annotate(count=Func(F("pk"), function="COUNT")).values("count")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def bookings_overlapping(*, staff_id, start, end) -> QuerySet[Booking]:
    """The staff member's bookings overlapping [start, end) (values, or references to a time off's): what a
    time off is in the way of, and what its cancellation cancels."""
    return Booking.objects.filter(staff_id=staff_id, start__lt=end, end__gt=start)


def bookings_on_local_dates(*, salon: Salon, first, last) -> QuerySet[Booking]:
    """The salon's bookings starting on a local date (its zone) from `first` to `last`, inclusive: dates,
    or references to a closure's. What a closure is in the way of, and what its cancellation cancels."""
    return Booking.objects.annotate(local_date=TruncDate("start", tzinfo=salon.tz)).filter(
        salon_id=salon.pk, local_date__gte=first, local_date__lte=last
    )


def time_off_bookings_count(*, staff_id: OuterRef, start: OuterRef, end: OuterRef) -> Coalesce:
    return _active_bookings_count(bookings_overlapping(staff_id=staff_id, start=start, end=end))


def closure_bookings_count(*, salon: Salon, first: OuterRef, last: OuterRef) -> Coalesce:
    return _active_bookings_count(bookings_on_local_dates(salon=salon, first=first, last=last))


def special_hours_bookings_counts(
    spans: Sequence[SpecialHours], *, salon: Salon, staff: StaffMember | None = None
) -> list[int]:
    """A count for each span. Three queries whatever the spans: the owner's weekly hours, all its spans,
    the bookings of those dates."""
    if not spans:
        return []
    tz = salon.tz
    if staff is None:
        weekly_rows, owner_bookings = salon.business_hours.all(), Booking.objects.filter(salon=salon)
    else:
        weekly_rows, owner_bookings = staff.working_hours.all(), Booking.objects.filter(staff=staff)
    weekly = weeks.WeeklyHours(
        tuple(weeks.HoursRange(row.weekday, row.start, row.end) for row in weekly_rows)
    )
    special = tuple(
        weeks.SpecialHours(row.start_date, row.end_date, weeks.week_from_json(row.hours))
        for row in special_hours_list(salon=salon, staff=staff)
    )
    first = min(span.start_date for span in spans)
    last = max(span.end_date for span in spans)
    bookings = owner_bookings.filter(
        status__in=ACTIVE_STATUSES,
        start__gte=_midnight(first, tz),
        start__lt=_midnight(last + weeks.ONE_DAY, tz),
    ).values_list("start", "end")
    out_of_hours: dict[date, int] = defaultdict(int)
    for start, end in bookings:
        local_date = start.astimezone(tz).date()
        if not _held(start, end, _stretches(local_date, weekly, special, tz)):
            out_of_hours[local_date] += 1
    return [
        sum(count for day, count in out_of_hours.items() if span.start_date <= day <= span.end_date)
        for span in spans
    ]


def _stretches(
    local_date: date, weekly: weeks.WeeklyHours, special: tuple[weeks.SpecialHours, ...], tz: ZoneInfo
) -> list[weeks.Span]:
    """The hours of the ranges starting on the date and on the day before (whose night may spill)."""
    return [
        stretch
        for day in (local_date - weeks.ONE_DAY, local_date)
        for stretch in weeks.dated_spans(day, weeks.ranges_on(day, weekly, special), tz)
    ]


def _held(start: datetime, end: datetime, stretches: Iterable[weeks.Span]) -> bool:
    return any(begin <= start and end <= finish for begin, finish in stretches)


def _midnight(local_date: date, tz: ZoneInfo) -> datetime:
    return weeks.wall_to_utc(local_date, time.min, tz)


IN_THE_WAY = InTheWayCounter(
    of_time_off=time_off_bookings_count,
    of_closure=closure_bookings_count,
    of_special_hours=special_hours_bookings_counts,
)
