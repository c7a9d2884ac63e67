"""Review reads: the public list, the management lookup, and the data export section."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from backend.accounts.models import User
from backend.reviews.models import Review
from backend.salons.models import Salon


def review_list_public(*, salon: Salon) -> QuerySet[Review]:
    """A salon's visible reviews, newest first, with their customers in the same query (no N+1);
    ReviewFilter narrows it to a `staff` member."""
    return Review.objects.filter(salon=salon, is_hidden=False).select_related("customer")


def review_get_managed(*, salon: Salon, review_id: int) -> Review:
    """A review of this salon (hidden or not), for its manager; Http404 for any other id."""
    return get_object_or_404(Review.objects.select_related("customer"), salon=salon, pk=review_id)


def review_get(*, review_id: int) -> Review:
    """Any review, for platform admins (moderation)."""
    return get_object_or_404(Review, pk=review_id)


def review_personal_data(*, user: User) -> list[dict]:
    """The reviews section of the user's data export (GET /me/export/)."""
    return [
        {
            "id": review.pk,
            "booking": review.booking_id,
            "salon": review.salon.name,
            "staff": review.staff.name,
            "rating": review.rating,
            "comment": review.comment,
            "reply": review.reply,
            "hidden": review.is_hidden,
            "created_at": review.created_at,
            "updated_at": review.updated_at,
        }
        for review in Review.objects.filter(customer=user).select_related("salon", "staff").order_by("id")
    ]
