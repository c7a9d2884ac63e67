"""The waitlist: customers waiting for a time at a salon on one date, the offers made to them, and the
freed-time outbox the workers read to make them (docs/adr/0020-waitlist.md)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from backend.bookings.models import Booking
from backend.salons.models import Salon, Service, StaffMember


class EntryStatus(models.TextChoices):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    EXPIRED = "expired"  # its date passed
    CANCELLED = "cancelled"


# An entry still in the queue: one per customer, salon, service, staff and date.
OPEN_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class OfferOutcome(models.TextChoices):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"  # expired unanswered, or the slot no longer held
    WITHDRAWN = "withdrawn"  # the entry was cancelled or its account deleted


class WaitlistEntry(models.Model):
    """A customer waiting for `service` (with `staff`, or anyone) at `salon` on the local `date`, starting
    within [from_time, to_time] when given. The id is the join order."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    from_time = models.TimeField(null=True, blank=True)
    to_time = models.TimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=EntryStatus.choices, default=EntryStatus.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "salon", "service", "staff", "date"],
                condition=Q(status__in=OPEN_STATUSES),
                nulls_distinct=False,
                name="waitlist_entry_one_open",
            ),
            models.CheckConstraint(
                condition=Q(from_time__isnull=True) | Q(to_time__isnull=True) | Q(to_time__gt=F("from_time")),
                name="waitlist_entry_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in EntryStatus]), name="waitlist_entry_status"
            ),
        ]
        indexes = [
            # The matcher reads a salon's open entries of a date in join order.
            models.Index(
                fields=["salon", "date", "id"], condition=Q(status="waiting"), name="waitlist_waiting"
            ),
            models.Index(fields=["customer", "id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.date} {self.status}"


class WaitlistOffer(models.Model):
    """One slot offered to one entry: the held booking (status `offered`) and what became of it. An entry
    has at most one open offer; the slots it was offered before are never offered to it again."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=OfferOutcome.choices, default=OfferOutcome.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=Q(outcome="open"), name="waitlist_offer_one_open_per_entry"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(outcome="open"), name="waitlist_offer_open")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.start} {self.outcome}"


class FreedTime(models.Model):
    """Outbox: a salon's dates where time became bookable, written in the transaction that freed it (the
    `backend.core.freed_time` hook); the matcher consumes the rows. Null dates: every date from today."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="+")
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["salon", "id"])]

    def __str__(self) -> str:
        return f"#{self.pk} salon {self.salon_id} {self.first_day}..{self.last_day} {self.reason}"
