"""Salons and what they offer: services, staff, weekly hours, time off and closures.

Names are bilingual: `name` is the name every salon has, `name_ar` an optional Arabic one; the API shows
`name_ar` to Arabic clients when it is set (`localized_name`). Weekdays are stored as `date.weekday()`
numbers (0 = Monday), the API speaks `sun`..`sat`."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language

from backend.salons.validators import DAY_CODES, validate_cancellation_policy, validate_timezone

DEFAULT_TIMEZONE = "Asia/Riyadh"
DEFAULT_CURRENCY = "SAR"
# DAY_CODES: date.weekday() order; the API's week starts on Sunday (WEEK_ORDER).
WEEK_ORDER = (6, 0, 1, 2, 3, 4, 5)
MAX_SLOT_STEP_MINUTES = 24 * 60
MAX_HORIZON_DAYS = 365
DEFAULT_MAX_UNPAID_HOLDS = 2
MAX_UNPAID_HOLDS = 50


def default_cancellation_policy() -> list[dict[str, int]]:
    return [{"hours_before": 24, "refund_percent": 100}, {"hours_before": 2, "refund_percent": 50}]


class InvitationStatus(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class BilingualNameMixin(models.Model):
    name = models.CharField(max_length=200)
    name_ar = models.CharField(max_length=200, blank=True, help_text="Arabic name; `name` when empty")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def localized_name(self) -> str:
        """The name in the active request language (Accept-Language)."""
        if self.name_ar and (get_language() or "").startswith("ar"):
            return self.name_ar
        return self.name


class Salon(BilingualNameMixin):
    city = models.CharField(max_length=100, db_index=True)
    timezone = models.CharField(max_length=64, default=DEFAULT_TIMEZONE, validators=[validate_timezone])
    slot_step_minutes = models.PositiveSmallIntegerField(default=15)
    min_notice_minutes = models.PositiveIntegerField(default=60)
    horizon_days = models.PositiveSmallIntegerField(default=30)
    prepayment_required = models.BooleanField(default=False)
    hold_minutes = models.PositiveSmallIntegerField(default=15)
    # Unpaid holds (`pending_payment` bookings) one customer may have here at a time: holds take slots
    # for `hold_minutes` without money, so one account must not be able to take a whole evening.
    max_unpaid_holds = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_UNPAID_HOLDS,
        help_text="Unpaid holds (bookings waiting for their payment) one customer may have at a time.",
    )
    # How long a freed slot offered to a waitlisted customer stays held for them (backend/waitlist).
    waitlist_offer_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Minutes a waitlist offer holds its slot for the customer."
    )
    # Tiers [{"hours_before", "refund_percent"}], largest hours_before first; read with the salon, replaced
    # whole, never queried by tier: a JSON list on the row, validated by validate_cancellation_policy.
    # Empty (blank) means no refunds.
    cancellation_policy = models.JSONField(
        default=default_cancellation_policy, blank=True, validators=[validate_cancellation_policy]
    )
    # Maintained by the reviews feature.
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    review_count = models.PositiveIntegerField(default=0)
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="managed_salons", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_step_minutes__gt=0, slot_step_minutes__lte=MAX_SLOT_STEP_MINUTES),
                name="salon_slot_step_in_range",
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__lte=MAX_HORIZON_DAYS), name="salon_horizon_in_range"
            ),
            models.CheckConstraint(condition=Q(hold_minutes__gt=0), name="salon_hold_positive"),
            models.CheckConstraint(
                condition=Q(waitlist_offer_minutes__gt=0), name="salon_waitlist_offer_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_unpaid_holds__gt=0, max_unpaid_holds__lte=MAX_UNPAID_HOLDS),
                name="salon_max_unpaid_holds_in_range",
            ),
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=5), name="salon_rating_in_range"),
        ]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Weekday(models.IntegerChoices):
    MON = 0, "mon"
    TUE = 1, "tue"
    WED = 2, "wed"
    THU = 3, "thu"
    FRI = 4, "fri"
    SAT = 5, "sat"
    SUN = 6, "sun"


class WeeklyRange(models.Model):
    """One wall-clock range in the salon's zone starting on one weekday; a day may have several. An `end`
    at or before `start` ends on the next day ("00:00" is midnight); a range lasts less than 24 hours."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # str(), not a format spec: the audit trail names rows that may hold raw input until refreshed.
        return f"{DAY_CODES[self.weekday]} {self.start}-{self.end}"


def _weekly_range_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(condition=~Q(end=F("start")), name=f"{prefix}_shorter_than_a_day"),
        models.CheckConstraint(condition=Q(weekday__lte=6), name=f"{prefix}_weekday_valid"),
    ]


class BusinessHours(WeeklyRange):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="business_hours")

    class Meta:
        ordering = ("weekday", "start")
        constraints = _weekly_range_constraints("business_hours")
        indexes = [models.Index(fields=["salon", "weekday"])]
        verbose_name_plural = "business hours"


class Service(BilingualNameMixin):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="services")
    duration_minutes = models.PositiveSmallIntegerField()
    price_halalas = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    buffer_minutes = models.PositiveSmallIntegerField(default=0, help_text="cleanup time after the service")
    # Processing time (colour developing): the client stays, the staff member is free for others; the next
    # item of a visit starts after it (docs/adr/0021-visit-occupations.md).
    processing_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="time after the service the client waits while the staff member is free"
    )
    # Deleting a service hides it; bookings keep pointing at it.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="service_duration_positive"),
            models.CheckConstraint(condition=Q(price_halalas__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(condition=Q(buffer_minutes__gte=0), name="service_buffer_not_negative"),
            models.CheckConstraint(
                condition=Q(processing_minutes__gte=0), name="service_processing_not_negative"
            ),
        ]

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    @property
    def processing(self) -> timedelta:
        return timedelta(minutes=self.processing_minutes)


class StaffMember(BilingualNameMixin):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="staff")
    # E.164. Setting it invites the person with this phone: once they log in and accept
    # (salons/invitations.py), `user` is theirs and they are this salon's staff.
    phone = models.CharField(max_length=32, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True, help_text="When the phone was last set.")
    invitation_declined_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_profiles",
    )
    services = models.ManyToManyField(Service, through="StaffService", related_name="staff_members")
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    review_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")
        verbose_name_plural = "staff members"
        constraints = [
            models.UniqueConstraint(
                fields=["salon", "phone"],
                condition=Q(is_active=True) & ~Q(phone=""),
                name="staff_phone_unique_per_salon",
            ),
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=5), name="staff_rating_in_range"),
        ]

    @property
    def invitation_status(self) -> str | None:
        """pending, accepted, declined; None without a phone (nobody was invited)."""
        if self.user_id is not None:
            return InvitationStatus.ACCEPTED
        if not self.phone:
            return None
        if self.invitation_declined_at is not None:
            return InvitationStatus.DECLINED
        return InvitationStatus.PENDING


class StaffService(models.Model):
    """A service a staff member performs, with their own duration and price where they differ."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="staff_services")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="staff_services")
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    price_halalas = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "service"], name="staff_service_unique"),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__gt=0),
                name="staff_service_duration_positive",
            ),
            models.CheckConstraint(
                condition=Q(price_halalas__isnull=True) | Q(price_halalas__gte=0),
                name="staff_service_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.service_id}"


class WorkingHours(WeeklyRange):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")

    class Meta:
        ordering = ("weekday", "start")
        constraints = _weekly_range_constraints("working_hours")
        indexes = [models.Index(fields=["staff", "weekday"])]
        verbose_name_plural = "working hours"
