"""Dates the usual week does not hold: a staff member's time off, the salon's closures, and special hours
that replace the weekly hours over a span of dates (Ramadan, Eid). Time off and closures can cancel the
bookings in their way in the background (backend/bookings/bulk_cancellations.py)."""

from datetime import timedelta

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import BigIntegerRangeField, DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from backend.salons.models.catalog import Salon, StaffMember
from backend.salons.validators import validate_week_json

MAX_SPECIAL_HOURS_DAYS = 366


class CancellationState(models.TextChoices):
    """Where the background cancellation of the bookings in a closure's or time off's way is."""

    PENDING = "pending"
    DONE = "done"


class CancelsBookingsInTheWay(models.Model):
    """A closure or a time off that may ask for the active bookings in its way to be cancelled by the salon
    in the background (backend/bookings/bulk_cancellations.py): `cancel_requested_at` records the request,
    `cancel_finished_at` the end; `cancel_progress_at` is the last time a batch moved it on, so the sweep
    tells a running cancellation from one a crash left."""

    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_progress_at = models.DateTimeField(null=True, blank=True)
    cancel_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def cancellation(self) -> str | None:
        """None (nothing asked), pending or done."""
        if self.cancel_requested_at is None:
            return None
        if self.cancel_finished_at is None:
            return CancellationState.PENDING
        return CancellationState.DONE


def _cancellation_constraint(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(cancel_finished_at__isnull=True) | Q(cancel_requested_at__isnull=False),
        name=f"{prefix}_cancellation_finished_after_requested",
    )


def _cancellation_pending_index(prefix: str) -> models.Index:
    """What the sweep reads: the cancellations not finished, by their last progress."""
    return models.Index(
        fields=["cancel_progress_at"],
        condition=Q(cancel_requested_at__isnull=False, cancel_finished_at__isnull=True),
        name=f"{prefix}_cancellation_pending",
    )


class TimeOff(CancelsBookingsInTheWay):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("start", "id")
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_end_after_start"),
            _cancellation_constraint("time_off"),
        ]
        indexes = [models.Index(fields=["staff", "end"]), _cancellation_pending_index("time_off")]

    def __str__(self) -> str:
        return f"{self.start} - {self.end}"


MAX_CLOSURE_DAYS = 366  # a closure spans at most this many dates, first and last included


class _IdPoint(Func):
    """An id as the one-point range [id, id]: "same owner" as "ranges overlap", so the exclusion
    constraints of closures and special hours need no btree_gist (as bookings' `_StaffPoint`)."""

    function = "int8range"
    template = "%(function)s(%(expressions)s, %(expressions)s, '[]')"
    output_field = BigIntegerRangeField()


class _Dates(Func):
    """[first, last]: both dates included (a closure's or a special-hours span's dates)."""

    function = "daterange"
    template = "%(function)s(%(expressions)s, '[]')"
    output_field = DateRangeField()


class Closure(CancelsBookingsInTheWay):
    """Whole local days (in the salon's zone), `date` to `end_date` inclusive, on which the salon is closed.

    It may ask for the bookings starting on those dates to be cancelled (CancelsBookingsInTheWay)."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("date",)
        constraints = [
            # Closures of one salon never share a date: a second closure for a closed date is refused.
            ExclusionConstraint(
                name="closure_no_overlap",
                index_type="gist",
                expressions=[
                    (_IdPoint(F("salon_id")), RangeOperators.OVERLAPS),
                    (_Dates(F("date"), F("end_date")), RangeOperators.OVERLAPS),
                ],
                violation_error_message=_("The salon is already closed on one of these dates."),
            ),
            models.CheckConstraint(
                condition=Q(
                    end_date__gte=F("date"), end_date__lt=F("date") + timedelta(days=MAX_CLOSURE_DAYS)
                ),
                name="closure_span_in_range",
                violation_error_message=_("A closure ends on or after its first date, within a year."),
            ),
            _cancellation_constraint("closure"),
        ]
        indexes = [_cancellation_pending_index("closure")]

    def __str__(self) -> str:
        return str(self.date) if self.end_date in (None, self.date) else f"{self.date} - {self.end_date}"

    def save(self, *args, **kwargs) -> None:
        if self.end_date is None:  # one day unless said otherwise, as before closures had spans
            self.end_date = self.date
        super().save(*args, **kwargs)


class SpecialHours(models.Model):
    """A span of local dates on which `hours` replace the weekly hours: the salon's business hours when
    `staff` is null, else that staff member's working hours. A weekday absent from `hours` is closed."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="special_hours")
    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, null=True, blank=True, related_name="special_hours"
    )
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    # [{"day": "thu", "start": "16:00", "end": "02:00"}, ...], as the API took them: read with the span,
    # replaced whole, never queried by range (like the cancellation policy).
    hours = models.JSONField(default=list, blank=True, validators=[validate_week_json])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("start_date", "id")
        verbose_name_plural = "special hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date"))
                & Q(end_date__lt=F("start_date") + timedelta(days=MAX_SPECIAL_HOURS_DAYS)),
                name="special_hours_at_most_366_days",
            ),
            # Two spans of one owner never share a date, whatever the concurrency.
            ExclusionConstraint(
                name="special_hours_salon_dates_disjoint",
                index_type="gist",
                expressions=[
                    (_IdPoint(F("salon_id")), RangeOperators.OVERLAPS),
                    (_Dates(F("start_date"), F("end_date")), RangeOperators.OVERLAPS),
                ],
                condition=Q(staff__isnull=True),
            ),
            ExclusionConstraint(
                name="special_hours_staff_dates_disjoint",
                index_type="gist",
                expressions=[
                    (_IdPoint(F("staff_id")), RangeOperators.OVERLAPS),
                    (_Dates(F("start_date"), F("end_date")), RangeOperators.OVERLAPS),
                ],
                condition=Q(staff__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date} - {self.end_date}"

    def clean(self) -> None:
        if self.staff_id is not None and self.staff.salon_id != self.salon_id:
            # Not keyed by field: a field with an error is left out of the constraint checks that follow,
            # and the exclusion constraints' conditions name `staff` (Django cannot then evaluate them).
            raise ValidationError(_("This staff member works at another salon."))
