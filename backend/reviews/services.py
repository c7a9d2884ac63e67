"""Review writes. Every change that can move a rating (create, edit, hide, unhide) runs in one
transaction that first locks the salon's and the visit's staff members' rows, then recomputes both aggregates
from the visible reviews with one query each: concurrent changes of one salon's reviews queue on the lock,
so `rating` and `review_count` always equal what the visible reviews give (`rebuild_ratings` checks it).

Rounding: the mean of the visible ratings, rounded half up to 2 places (4.125 -> 4.13), computed from the
exact integer sum and count; 0 with no visible review."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.bookings.access import booking_access_for_review
from backend.bookings.models import Booking, BookingItem, BookingStatus
from backend.core.errors import ApplicationError
from backend.reviews.models import Review
from backend.salons.models import Salon, StaffMember

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rating:
    value: Decimal
    count: int


def rating_of(*, reviews) -> Rating:
    """The rating the visible reviews among `reviews` give: one aggregate query."""
    totals = reviews.filter(is_hidden=False).aggregate(total=Sum("rating"), count=Count("id"))
    if not totals["count"]:
        return Rating(Decimal("0.00"), 0)
    mean = Decimal(totals["total"]) / totals["count"]
    return Rating(mean.quantize(_CENT, rounding=ROUND_HALF_UP), totals["count"])


def _lock(*, salon_id: int, staff_ids: list[int]) -> None:
    """Locks the salon's row, then its staff members' rows: always in this order, so no deadlock. NO KEY
    UPDATE locks, so bookings (whose foreign keys take KEY SHARE locks on these rows) are not held up."""
    list(Salon.objects.select_for_update(no_key=True).filter(pk=salon_id).values_list("pk"))
    list(
        StaffMember.objects.select_for_update(no_key=True)
        .filter(pk__in=staff_ids)
        .order_by("pk")
        .values_list("pk")
    )


def reviews_of_staff(*, staff_id: int):
    """The reviews of visits with an item of this staff member's: each item's staff member gets the
    visit's rating (issue 22); a one-service booking's is its staff member's."""
    return Review.objects.filter(
        booking_id__in=BookingItem.objects.filter(staff_id=staff_id).values("booking_id")
    )


def _staff_of(booking_id: int) -> list[int]:
    """The staff members of the visit's items, whose ratings its review moves."""
    return sorted(set(BookingItem.objects.filter(booking_id=booking_id).values_list("staff_id", flat=True)))


def _ratings_refresh(*, salon_id: int, staff_ids: list[int]) -> None:
    """Recomputes the aggregates of a salon and of some of its staff; the caller holds their locks."""
    salon_rating = rating_of(reviews=Review.objects.filter(salon_id=salon_id))
    Salon.objects.filter(pk=salon_id).update(rating=salon_rating.value, review_count=salon_rating.count)
    for staff_id in staff_ids:
        staff_rating = rating_of(reviews=reviews_of_staff(staff_id=staff_id))
        StaffMember.objects.filter(pk=staff_id).update(
            rating=staff_rating.value, review_count=staff_rating.count
        )


def _locked_review(review_id: int) -> Review:
    """The review, after locking its salon's and staff member's rows (their ids never change)."""
    salon_id, booking_id = Review.objects.values_list("salon_id", "booking_id").get(pk=review_id)
    _lock(salon_id=salon_id, staff_ids=_staff_of(booking_id))
    return Review.objects.select_related("customer").get(pk=review_id)


def review_create(*, booking: Booking, actor: User, rating: int, comment: str = "") -> Review:
    """The customer's review of their completed booking; one per booking (409 `already_reviewed`). Who may
    review: `booking_access_for_review` (not the salon's own staff and managers)."""
    booking_access_for_review(user=actor, booking=booking)
    if booking.status != BookingStatus.COMPLETED:
        raise ApplicationError("booking_not_completed", _("Only a completed booking can be reviewed."))
    with transaction.atomic():
        staff_ids = _staff_of(booking.pk)
        _lock(salon_id=booking.salon_id, staff_ids=staff_ids)
        try:
            # A savepoint: the unique booking constraint may refuse the insert, even after the lock
            # (a review committed between our read of the booking and the lock).
            with transaction.atomic():
                review = Review.objects.create(
                    booking=booking,
                    salon_id=booking.salon_id,
                    staff_id=booking.staff_id,
                    service_id=booking.service_id,
                    customer=actor,
                    rating=rating,
                    comment=comment,
                )
        except IntegrityError as error:
            if "booking_id" not in str(error):
                raise
            raise ApplicationError(
                "already_reviewed", _("This booking has already been reviewed."), status=409
            ) from error
        _ratings_refresh(salon_id=booking.salon_id, staff_ids=staff_ids)
    return review


def review_update(*, booking: Booking, actor: User, data: dict, now: datetime | None = None) -> Review:
    """The customer edits `rating` and/or `comment` within REVIEW_EDIT_WINDOW_HOURS of writing it."""
    now = now or timezone.now()
    booking_access_for_review(user=actor, booking=booking)
    review_id = Review.objects.filter(booking=booking).values_list("pk", flat=True).first()
    if review_id is None:
        raise ApplicationError("not_found", _("This booking has no review yet."), status=404)
    with transaction.atomic():
        review = _locked_review(review_id)
        if now > review.created_at + timedelta(hours=settings.REVIEW_EDIT_WINDOW_HOURS):
            raise ApplicationError(
                "review_not_editable", _("The time to edit this review has passed."), status=409
            )
        for field in ("rating", "comment"):
            if field in data:
                setattr(review, field, data[field])
        review.save(update_fields=["rating", "comment", "updated_at"])
        _ratings_refresh(salon_id=review.salon_id, staff_ids=_staff_of(review.booking_id))
    return review


def review_reply(*, review: Review, reply: str, now: datetime | None = None) -> Review:
    """The salon's public answer; a later reply replaces it. Ratings do not move."""
    review.reply = reply
    review.replied_at = now or timezone.now()
    review.save(update_fields=["reply", "replied_at", "updated_at"])
    return review


def review_set_hidden(*, review_id: int, hidden: bool, now: datetime | None = None) -> Review:
    """A platform admin hides an abusive review (or shows it again): it leaves (or rejoins) the public
    list and the ratings. Setting the state it already has changes nothing."""
    with transaction.atomic():
        review = _locked_review(review_id)
        if review.is_hidden != hidden:
            review.is_hidden = hidden
            review.hidden_at = (now or timezone.now()) if hidden else None
            review.save(update_fields=["is_hidden", "hidden_at", "updated_at"])
            _ratings_refresh(salon_id=review.salon_id, staff_ids=_staff_of(review.booking_id))
    return review


def ratings_rebuild() -> int:
    """Recomputes every salon's and staff member's rating from scratch (`manage.py rebuild_ratings`),
    one salon per transaction, under the same locks as the incremental path. Returns the salons done."""
    salon_ids = list(Salon.objects.order_by("pk").values_list("pk", flat=True))
    for salon_id in salon_ids:
        with transaction.atomic():
            staff_ids = list(StaffMember.objects.filter(salon_id=salon_id).values_list("pk", flat=True))
            _lock(salon_id=salon_id, staff_ids=staff_ids)
            _ratings_refresh(salon_id=salon_id, staff_ids=staff_ids)
    return len(salon_ids)


def reviews_anonymise_for_deleted_account(*, user: User) -> None:
    """Account deletion: the comments go (they are the customer's words); ratings stay, anonymous."""
    Review.objects.filter(customer=user).update(comment="", updated_at=timezone.now())


def reviews_anonymise_deleted_customers(*, now: datetime | None = None) -> int:
    """Retention (beat, daily): the comments of deleted accounts, for accounts deleted before the deletion
    hook above blanked them (or a comment written in between). Ratings and replies stay. Idempotent."""
    now = now or timezone.now()
    return (
        Review.objects.filter(customer__deleted_at__isnull=False)
        .exclude(comment="")
        .update(comment="", updated_at=now)
    )
