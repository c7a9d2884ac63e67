"""The reviews API: the customer's review of a booking, the public list, the manager's reply and the
platform admins' moderation. Access: the booking endpoint goes through `booking_get_for_user` (404 to
anyone who may not see the booking) and `booking_access_for_review` (403 to salon staff, who may see it
but are not its customer, and to its customer if they work at its salon); the
reply through `salon_get_managed` (404 to everyone but the salon's managers)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.bookings.access import booking_get_for_user
from backend.core.db_router import ReplicaReadsMixin
from backend.core.permissions import IsPlatformAdmin
from backend.core.serializers import error_responses
from backend.reviews import selectors, services
from backend.reviews.filters import ReviewFilter
from backend.reviews.models import Review
from backend.reviews.serializers import (
    ReviewInputSerializer,
    ReviewModerationSerializer,
    ReviewReplySerializer,
    ReviewSerializer,
)
from backend.salons.permissions import ManagedSalonMixin, PublicSalonMixin


class BookingReviewView(APIView):
    @extend_schema(
        operation_id="bookings_review_create",
        tags=["reviews"],
        request=ReviewInputSerializer,
        responses={
            201: ReviewSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                codes={
                    400: "booking_not_completed",
                    403: "permission_denied (not the booking's customer), cannot_review_own_salon "
                    "(the customer is staff or a manager of the booking's salon)",
                    409: "already_reviewed",
                },
            ),
        },
    )
    def post(self, request: Request, booking_id: int) -> Response:
        """The customer reviews their completed booking, once: `rating` 1..5, an optional `comment`."""
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        payload = ReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review = services.review_create(booking=booking, actor=request.user, **payload.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="bookings_review_update",
        tags=["reviews"],
        request=ReviewInputSerializer(partial=True),
        responses={
            200: ReviewSerializer,
            **error_responses(
                400, 401, 403, 404, 409, codes={403: "not the booking's customer", 409: "review_not_editable"}
            ),
        },
    )
    def patch(self, request: Request, booking_id: int) -> Response:
        """The customer changes their review, within REVIEW_EDIT_WINDOW_HOURS (default 72) of writing it."""
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        payload = ReviewInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        review = services.review_update(booking=booking, actor=request.user, data=payload.validated_data)
        return Response(ReviewSerializer(review).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="salons_reviews_list",
        tags=["catalog"],
        responses={200: ReviewSerializer(many=True), **error_responses(400, 404)},
    )
)
class SalonReviewListView(ReplicaReadsMixin, PublicSalonMixin, generics.ListAPIView):
    """The salon's visible reviews, newest first; `staff` keeps one staff member's (of visits with an
    item of theirs: those behind their rating)."""

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.review_list_public(salon=self.salon)


class ReviewReplyView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_reviews_reply",
        tags=["manage"],
        request=ReviewReplySerializer,
        responses={200: ReviewSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, salon_id: int, review_id: int) -> Response:
        """The salon's public answer to a review; a new reply replaces the previous one."""
        review = selectors.review_get_managed(salon=self.salon, review_id=review_id)
        payload = ReviewReplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review = services.review_reply(review=review, reply=payload.validated_data["reply"])
        return Response(ReviewSerializer(review).data)


class _ReviewModerationView(APIView):
    permission_classes = [IsPlatformAdmin]
    hidden: bool

    def post(self, request: Request, review_id: int) -> Response:
        review = selectors.review_get(review_id=review_id)
        review = services.review_set_hidden(review_id=review.pk, hidden=self.hidden)
        return Response(ReviewModerationSerializer(review).data)


_MODERATION_RESPONSES = {200: ReviewModerationSerializer, **error_responses(401, 403, 404)}


@extend_schema_view(
    post=extend_schema(
        operation_id="admin_reviews_hide",
        tags=["admin"],
        request=None,
        responses=_MODERATION_RESPONSES,
        description="Hides an abusive review from the public list and the ratings. Platform admins only.",
    )
)
class ReviewHideView(_ReviewModerationView):
    hidden = True


@extend_schema_view(
    post=extend_schema(
        operation_id="admin_reviews_unhide",
        tags=["admin"],
        request=None,
        responses=_MODERATION_RESPONSES,
        description="Shows a hidden review again, in the public list and the ratings. Platform admins only.",
    )
)
class ReviewUnhideView(_ReviewModerationView):
    hidden = False
