"""Special hours: spans of local dates on which their own week replaces the weekly hours of a salon (its
business hours) or of a staff member (their working hours). Writes and reads, one place each.

Two spans of one owner never share a date: an exclusion constraint holds it whatever the concurrency,
and its refusal is the 400 `overlapping_special_hours` (`SpecialHours` in models.py)."""

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.core.freed_time import freed_time_announce
from backend.salons.booking_hooks import special_hours_in_the_way
from backend.salons.models import (
    DAY_CODES,
    MAX_SPECIAL_HOURS_DAYS,
    WEEK_ORDER,
    Salon,
    SpecialHours,
    StaffMember,
)
from backend.salons.services import WeekRange, week_check

OVERLAP_CONSTRAINTS = ("special_hours_salon_dates_disjoint", "special_hours_staff_dates_disjoint")


def overlapping_special_hours_error() -> ApplicationError:
    return ApplicationError(
        "overlapping_special_hours", _("Other special hours already cover some of these dates.")
    )


def special_hours_create(
    *,
    salon: Salon,
    start_date: date,
    end_date: date,
    hours: list[WeekRange],
    reason: str = "",
    staff: StaffMember | None = None,
) -> SpecialHours:
    """A span of special hours for the salon (its business hours), or for `staff` (their working hours).
    The week is stored as the API writes it, Sunday first; its ranges follow the weekly hours' rules."""
    if end_date < start_date:
        raise ValidationError({"end_date": [_("The end date must not be before the start date.")]})
    if (end_date - start_date).days >= MAX_SPECIAL_HOURS_DAYS:
        raise ValidationError({"end_date": [_("Special hours cover at most 366 days.")]})
    week = sorted(
        week_check(hours, field="hours"), key=lambda item: (WEEK_ORDER.index(item.weekday), item.start)
    )
    span = SpecialHours(
        salon=salon,
        staff=staff,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        hours=[
            {"day": DAY_CODES[item.weekday], "start": f"{item.start:%H:%M}", "end": f"{item.end:%H:%M}"}
            for item in week
        ],
    )
    # The overlap rule is the database's (the same answer for two requests at once), not full_clean's.
    span.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            span.save()
    except IntegrityError as error:
        if any(name in str(error) for name in OVERLAP_CONSTRAINTS):
            raise overlapping_special_hours_error() from None
        raise
    _announce(span)
    return span


def _announce(span: SpecialHours) -> None:
    """Special hours may open time the weekly hours did not (or, removed, give back the weekly hours)."""
    freed_time_announce(
        salon_id=span.salon_id, first_day=span.start_date, last_day=span.end_date, reason="special_hours"
    )


@transaction.atomic
def special_hours_delete(*, span: SpecialHours) -> None:
    _announce(span)
    span.delete()


def special_hours_list(*, salon: Salon, staff: StaffMember | None = None) -> QuerySet[SpecialHours]:
    """The salon's own spans (staff None), or those of one staff member."""
    spans = SpecialHours.objects.filter(salon=salon)
    return spans.filter(staff=staff) if staff is not None else spans.filter(staff__isnull=True)


def special_hours_get_managed(
    *, salon: Salon, span_id: int, staff: StaffMember | None = None
) -> SpecialHours:
    return get_object_or_404(special_hours_list(salon=salon, staff=staff), id=span_id)


def with_bookings_in_the_way(
    spans: Sequence[SpecialHours], *, salon: Salon, staff: StaffMember | None = None
) -> Sequence[SpecialHours]:
    """Sets `bookings_in_the_way` on each span: the owner's active bookings starting on its dates that its
    hours no longer hold. Bookings counts them (booking_hooks.py)."""
    counts = special_hours_in_the_way(spans, salon=salon, staff=staff)
    for span, count in zip(spans, counts, strict=True):
        span.bookings_in_the_way = count
    return spans
