"""What a salon's time off, closure or special hours is in the way of: bookings' side of the salons-bookings
seam (salons/booking_hooks.py; registered in apps.py). The same definitions count `bookings_in_the_way`
and choose what a requested cancellation cancels (bulk_cancellations.py, services/cancellations.py).

A visit is in the way through any of its items (issue 22, docs/adr/0021), each judged as the engine judges
it when booking: the item's service, start to end, must lie in its staff member's working time (its
buffer may run past closing or into time off, never into another occupation):
- a time off: the bookings with an item of the staff member whose service overlaps it;
- a closure: the salon's bookings with an item starting on its local dates;
- special hours: the owner's active bookings with an item (of the staff member's, for theirs) starting on
  its dates that its hours no longer hold (the item's service inside one range).
A count is of bookings (a visit with two items in the way counts once), in one subquery of the row."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate

from backend.bookings import weeks
from backend.bookings.models import ACTIVE_STATUSES, Booking, BookingItem
from backend.salons.booking_hooks import InTheWayCounter
from backend.salons.models import Salon, SpecialHours, StaffMember
from backend.salons.special_hours import special_hours_list


class _CountDistinct(Func):
    """COUNT(DISTINCT x) without a GROUP BY: the visits of the items, each once, as one subquery row."""

    function = "COUNT"
    template = "%(function)s(DISTINCT %(expressions)s)"
    output_field = IntegerField()


def _active_bookings_count(items: QuerySet[BookingItem]) -> Coalesce:
    """How many bookings the `items` (filtered against OuterRef) belong to are active, as a subquery."""
    active = items.filter(booking__status__in=ACTIVE_STATUSES).order_by()
    count = active.annotate(count=_CountDistinct(F("booking_id"))).values("count")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _bookings_of(items: QuerySet[BookingItem]) -> QuerySet[Booking]:
    return Booking.objects.filter(pk__in=items.values("booking_id"))


def _items_overlapping(*, staff_id, start, end) -> QuerySet[BookingItem]:
    """The staff member's visit items whose service overlaps [start, end) (values or OuterRefs)."""
    return BookingItem.objects.filter(staff_id=staff_id, start__lt=end, end__gt=start)


def bookings_overlapping(*, staff_id, start, end) -> QuerySet[Booking]:
    """The bookings with an item of the staff member's overlapping [start, end): what a time off is in the
    way of and what its cancellation cancels, and what a staff member's cancellation over a time cancels."""
    return _bookings_of(_items_overlapping(staff_id=staff_id, start=start, end=end))


def _items_of_salon(salon: Salon) -> QuerySet[BookingItem]:
    return BookingItem.objects.filter(booking__salon_id=salon.pk)


def _items_on_local_dates(*, salon: Salon, first, last) -> QuerySet[BookingItem]:
    """The items of the salon's visits starting on a local date (its zone) from `first` to `last`,
    inclusive: dates, or references to a closure's."""
    return (
        _items_of_salon(salon)
        .annotate(local_date=TruncDate("start", tzinfo=salon.tz))
        .filter(local_date__gte=first, local_date__lte=last)
    )


def bookings_on_local_dates(*, salon: Salon, first, last) -> QuerySet[Booking]:
    """The salon's bookings with an item starting on a local date from `first` to `last`: what a closure is
    in the way of, and what its cancellation cancels."""
    return _bookings_of(_items_on_local_dates(salon=salon, first=first, last=last))


def time_off_bookings_count(*, staff_id: OuterRef, start: OuterRef, end: OuterRef) -> Coalesce:
    return _active_bookings_count(_items_overlapping(staff_id=staff_id, start=start, end=end))


def closure_bookings_count(*, salon: Salon, first: OuterRef, last: OuterRef) -> Coalesce:
    return _active_bookings_count(_items_on_local_dates(salon=salon, first=first, last=last))


def special_hours_bookings_counts(
    spans: Sequence[SpecialHours], *, salon: Salon, staff: StaffMember | None = None
) -> list[int]:
    """A count for each span. Three queries whatever the spans: the owner's weekly hours, all its spans,
    the items of those dates (the salon's, or the staff member's own)."""
    if not spans:
        return []
    tz = salon.tz
    if staff is None:
        weekly_rows, owner_items = salon.business_hours.all(), _items_of_salon(salon)
    else:
        weekly_rows, owner_items = staff.working_hours.all(), BookingItem.objects.filter(staff=staff)
    weekly = weeks.WeeklyHours(
        tuple(weeks.HoursRange(row.weekday, row.start, row.end) for row in weekly_rows)
    )
    special = tuple(
        weeks.SpecialHours(row.start_date, row.end_date, weeks.week_from_json(row.hours))
        for row in special_hours_list(salon=salon, staff=staff)
    )
    first = min(span.start_date for span in spans)
    last = max(span.end_date for span in spans)
    items = owner_items.filter(
        booking__status__in=ACTIVE_STATUSES,
        start__gte=_midnight(first, tz),
        start__lt=_midnight(last + weeks.ONE_DAY, tz),
    ).values_list("booking_id", "start", "end")
    out_of_hours: dict[date, set[int]] = defaultdict(set)
    for booking_id, start, end in items:
        local_date = start.astimezone(tz).date()
        if not _held(start, end, _stretches(local_date, weekly, special, tz)):
            out_of_hours[local_date].add(booking_id)
    return [
        len(
            set().union(
                *(ids for day, ids in out_of_hours.items() if span.start_date <= day <= span.end_date)
            )
        )
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
