"""A customer's review of a completed booking, and the salon's reply.

The salon, staff member and service are copied from the booking so that the public list and the rating
aggregates read one table. Hidden reviews (abusive, hidden by a platform admin) count nowhere: not in
the public list, not in `Salon.rating`/`StaffMember.rating` (kept by `backend.reviews.services`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from backend.bookings.models import Booking
from backend.salons.models import Salon, Service, StaffMember

MIN_RATING = 1
MAX_RATING = 5
MAX_TEXT_LENGTH = 2000  # comment and reply: a paragraph, not an essay


class Review(models.Model):
    # One review per booking: the database refuses a second one, whatever the concurrency.
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="review")
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="reviews")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="reviews")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=MAX_TEXT_LENGTH, blank=True)
    reply = models.CharField(max_length=MAX_TEXT_LENGTH, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    is_hidden = models.BooleanField(default=False)
    hidden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING), name="review_rating_in_range"
            ),
            models.CheckConstraint(
                condition=Q(is_hidden=False) | Q(hidden_at__isnull=False), name="review_hidden_has_time"
            ),
        ]
        indexes = [
            # The public lists: a salon's (or a staff member's) visible reviews, newest first.
            models.Index(
                "salon",
                models.F("created_at").desc(),
                name="review_salon_visible_idx",
                condition=Q(is_hidden=False),
            ),
            models.Index(
                "staff",
                models.F("created_at").desc(),
                name="review_staff_visible_idx",
                condition=Q(is_hidden=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rating}/5 booking {self.booking_id}"
