"""The waitlist API: the customer's entries and offers (/waitlist/), the salon's list for its managers."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.permissions import PhoneRequiredToWrite
from backend.bookings.serializers import BookingSerializer
from backend.core.pagination import PageNumberPagination
from backend.core.serializers import error_responses
from backend.salons.permissions import ManagedSalonMixin, schema_only
from backend.salons.selectors import service_get_bookable_with_salon
from backend.waitlist import selectors, services
from backend.waitlist.models import WaitlistEntry
from backend.waitlist.serializers import (
    WaitlistEntrySerializer,
    WaitlistJoinSerializer,
    WaitlistManageQuerySerializer,
)

_JOIN_ERRORS = {
    400: "validation_error (a date past, beyond the salon's horizon, or without hours), staff_not_qualified",
    409: "already_waiting (the caller already waits for this salon, service, staff and date)",
}


class WaitlistListCreateView(APIView):
    pagination_class = PageNumberPagination
    permission_classes = [IsAuthenticated, PhoneRequiredToWrite]

    @extend_schema(
        operation_id="waitlist_list",
        summary="The caller's waitlist entries",
        responses={200: WaitlistEntrySerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        """The caller's entries, newest first, each with its open offer."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.waitlist_entries_of(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(WaitlistEntrySerializer(page, many=True).data)

    @extend_schema(
        operation_id="waitlist_join",
        summary="Join a salon's waitlist for a date",
        request=WaitlistJoinSerializer,
        responses={201: WaitlistEntrySerializer, **error_responses(400, 401, 403, 409, codes=_JOIN_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        """Waits for a time of `service` on `date` (with `staff`, or anyone; within `from`..`to`). When
        such a time frees, it is held for the waiting customers one at a time, in the order they joined,
        and each is told at once."""
        payload = WaitlistJoinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        service = service_get_bookable_with_salon(salon_id=data["salon"], service_id=data["service"])
        entry = services.waitlist_join(
            customer=request.user,
            service=service,
            day=data["date"],
            staff_id=data.get("staff"),
            from_time=data.get("from"),
            to_time=data.get("to"),
        )
        return Response(WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class WaitlistDetailView(APIView):
    @extend_schema(
        operation_id="waitlist_leave",
        summary="Leave the waitlist",
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, entry_id: int) -> Response:
        """Cancels the caller's entry; a slot held for it goes to the next waiting customer."""
        services.waitlist_leave(user=request.user, entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WaitlistAcceptView(APIView):
    @extend_schema(
        operation_id="waitlist_accept",
        summary="Accept the offered slot",
        request=None,
        responses={
            201: BookingSerializer,
            **error_responses(401, 404, 409, codes={409: "offer_expired (no live offer on this entry)"}),
        },
    )
    def post(self, request: Request, entry_id: int) -> Response:
        """Books the slot held for the caller: `confirmed`, or `pending_payment` at a prepayment salon."""
        booking = services.waitlist_accept(user=request.user, entry_id=entry_id)
        return Response(BookingSerializer(booking).data, status=status.HTTP_201_CREATED)


class WaitlistDeclineView(APIView):
    @extend_schema(
        operation_id="waitlist_decline",
        summary="Decline the offered slot",
        request=None,
        responses={200: WaitlistEntrySerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, entry_id: int) -> Response:
        """Passes the held slot to the next waiting customer; the entry waits on for another time."""
        entry = services.waitlist_decline(user=request.user, entry_id=entry_id)
        entry = get_object_or_404(selectors.waitlist_entries_of(user=request.user), pk=entry.pk)
        return Response(WaitlistEntrySerializer(entry).data)


class SalonWaitlistView(ManagedSalonMixin, generics.ListAPIView):
    """The salon's waitlist in join order, by date; `date` and `status` filter it."""

    serializer_class = WaitlistEntrySerializer

    @extend_schema(
        operation_id="manage_salon_waitlist",
        summary="The salon's waitlist",
        parameters=[WaitlistManageQuerySerializer],
        responses={200: WaitlistEntrySerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if schema_only(self):
            return WaitlistEntry.objects.none()
        query = WaitlistManageQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.waitlist_entries_of_salon(
            salon=self.salon,
            date=query.validated_data.get("date"),
            status=query.validated_data.get("status", ""),
        )
