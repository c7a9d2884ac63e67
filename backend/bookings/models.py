from datetime import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import BigIntegerRangeField, DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone

from backend.salons.models import DEFAULT_CURRENCY, Salon, Service, StaffMember


class BookingStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"
    # A waitlist offer: the slot held for one waiting customer until hold_expires_at; not a booking yet.
    OFFERED = "offered"


# The statuses of a booking that holds its staff member's time.
ACTIVE_STATUSES = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)
# Everything that occupies the staff member's time: bookings and the offers held for waitlisted customers
# (the exclusion constraint and availability see both; lists, payments and cancellations only bookings).
OCCUPYING_STATUSES = (*ACTIVE_STATUSES, BookingStatus.OFFERED)


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid"
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class CancelledBy(models.TextChoices):
    CUSTOMER = "customer"
    SALON = "salon"


class _StaffPoint(Func):
    """The staff id as the one-point range [id, id]. Range types have GiST operator classes built in, so
    "same staff member" becomes "ranges overlap" and the exclusion constraint needs no btree_gist
    (an extension the embedded development PostgreSQL does not ship)."""

    function = "int8range"
    template = "%(function)s(%(expressions)s, %(expressions)s, '[]')"
    output_field = BigIntegerRangeField()


class _Occupation(Func):
    """[start, occupied_until): the time a visit item blocks its staff member, buffer included."""

    function = "tstzrange"
    template = "%(function)s(%(expressions)s, '[)')"
    output_field = DateTimeRangeField()


class BookingQuerySet(models.QuerySet["Booking"]):
    def active(self) -> "BookingQuerySet":
        return self.filter(status__in=ACTIVE_STATUSES)

    def occupying(self, *, start: datetime, end: datetime) -> "BookingQuerySet":
        """Active bookings whose occupation [start, occupied_until) overlaps [start, end)."""
        return self.active().filter(start__lt=end, occupied_until__gt=start)


class Booking(models.Model):
    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="bookings")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    # A visit of one or more items (BookingItem): service and staff are the first item's, start the first
    # start, end the last end, price_halalas the sum, occupied_until the last occupation's end. What blocks
    # a staff member is each item's occupation, which the database guards (booking_staff_no_overlap).
    start = models.DateTimeField()
    end = models.DateTimeField()
    occupied_until = models.DateTimeField()
    status = models.CharField(max_length=20, choices=BookingStatus.choices)
    price_halalas = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    refund_halalas = models.PositiveIntegerField(null=True, blank=True)
    # When the current start was set (booked or rescheduled): a reminder is only due if the booking was
    # already made when the reminder's moment came ("tomorrow" makes no sense for a booking made today).
    scheduled_at = models.DateTimeField(default=timezone.now)
    # The start each reminder was written for: a reschedule changes the start, which re-arms them.
    reminded_24h_for = models.DateTimeField(null=True, blank=True)
    reminded_2h_for = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ("start", "id")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(occupied_until__gte=F("end")), name="booking_occupied_until_after_end"
            ),
            models.CheckConstraint(condition=Q(price_halalas__gte=0), name="booking_price_not_negative"),
            models.CheckConstraint(
                condition=Q(refund_halalas__isnull=True) | Q(refund_halalas__gte=0),
                name="booking_refund_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in BookingStatus]),
                name="booking_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=[choice.value for choice in PaymentStatus]),
                name="booking_payment_status_valid",
            ),
        ]
        indexes = [
            # Availability and the exclusion check read a staff member's bookings by time.
            models.Index(fields=["staff", "start"]),
            models.Index(fields=["salon", "start"]),
            models.Index(fields=["customer", "start"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.start} {self.status}"


class BookingItem(models.Model):
    """One service of a visit, with its staff member: the staff member's occupation [start, occupied_until)
    (end + the service's buffer at booking time; processing time occupies the client only) is what the
    exclusion constraint guards. `active` mirrors the visit's status (OCCUPYING_STATUSES); database triggers
    keep it in step in the same statement, whatever path changes the status (migration 0003)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="booking_items")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="booking_items")
    start = models.DateTimeField()
    end = models.DateTimeField()
    occupied_until = models.DateTimeField()
    price_halalas = models.PositiveIntegerField()
    # Set by the database from the booking's status (triggers), never by the application.
    active = models.BooleanField(default=True, editable=False)

    class Meta:
        ordering = ("booking_id", "position")
        constraints = [
            # The last word on double booking: two active occupations of one staff member never overlap.
            ExclusionConstraint(
                name="booking_staff_no_overlap",
                index_type="gist",
                expressions=[
                    (_StaffPoint(F("staff_id")), RangeOperators.OVERLAPS),
                    (_Occupation(F("start"), F("occupied_until")), RangeOperators.OVERLAPS),
                ],
                condition=Q(active=True),
            ),
            models.UniqueConstraint(fields=["booking", "position"], name="booking_item_position_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_item_end_after_start"),
            models.CheckConstraint(
                condition=Q(occupied_until__gte=F("end")), name="booking_item_occupied_until_after_end"
            ),
        ]
        indexes = [models.Index(fields=["staff", "start"])]

    def __str__(self) -> str:
        return f"#{self.booking_id}.{self.position} {self.start}"
