from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.permissions import PhoneRequiredToWrite
from backend.bookings.access import booking_get_for_user
from backend.bookings.list_selectors import booking_list_for_user_filtered
from backend.bookings.serializers import (
    BookingCancelSerializer,
    BookingCreateSerializer,
    BookingListQuerySerializer,
    BookingRescheduledSerializer,
    BookingRescheduleSerializer,
    BookingSerializer,
)
from backend.bookings.services import (
    booking_cancel,
    booking_complete,
    booking_mark_no_show,
    booking_reschedule,
)
from backend.bookings.services.create import RequestedItem, visit_create
from backend.core.db_router import ReplicaReadsMixin
from backend.core.idempotency import idempotent_response
from backend.core.pagination import PageNumberPagination
from backend.core.serializers import error_responses
from backend.salons.selectors import service_get_bookable_with_salon, services_get_bookable_with_salon

_CREATE_ERRORS = {
    400: "too_soon, too_far_ahead, outside_working_hours, staff_not_qualified, not_on_slot_grid (for a visit "
    "of several items, `item` names the index of the item refused)",
    409: "slot_unavailable (`item` as for 400), too_many_holds (the customer already holds the salon's "
    "`max_unpaid_holds` unpaid bookings there; `max_unpaid_holds` says how many), customer_busy (the "
    "customer already has a visit there at that time); idempotency_key_reused, request_in_progress",
}

_RESCHEDULE_ERRORS = {
    400: _CREATE_ERRORS[400],
    409: "slot_unavailable, customer_busy, not_reschedulable, reschedule_too_late (a paid booking, later "
    "than its full-refund tier), price_changed (a paid booking moving to a higher price; `price_halalas` "
    "says it), payment_in_progress (a payment is under way and the price would change)",
}
_PHONE_REQUIRED = {403: "phone_required: the caller has not verified a phone number yet"}


class BookingListCreateView(ReplicaReadsMixin, APIView):
    # GET (the list) may read from a replica; POST creates on the primary (backend/core/db_router.py).
    # Read by drf-spectacular too: the list's schema is the paginated shape, with `page` and `page_size`.
    pagination_class = PageNumberPagination
    permission_classes = [IsAuthenticated, PhoneRequiredToWrite]

    @extend_schema(
        operation_id="bookings_list",
        parameters=[BookingListQuerySerializer],
        responses={200: BookingSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        """The caller's bookings; for staff and managers, also their salon's. Soonest first."""
        query = BookingListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bookings = booking_list_for_user_filtered(
            user=request.user,
            status=query.validated_data.get("status", ""),
            upcoming=query.validated_data["upcoming"],
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(bookings, request, view=self)
        return paginator.get_paginated_response(BookingSerializer(page, many=True).data)

    @extend_schema(
        operation_id="bookings_create",
        request=BookingCreateSerializer,
        responses={
            201: BookingSerializer,
            **error_responses(400, 401, 403, 409, codes={**_CREATE_ERRORS, **_PHONE_REQUIRED}),
        },
        description="Honours an `Idempotency-Key` header: the same key returns the first answer.",
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            payload = BookingCreateSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
            requested = data["items"]
            if len(requested) == 1:
                service = service_get_bookable_with_salon(
                    salon_id=data["salon"], service_id=requested[0]["service"]
                )
                services = [service]
            else:
                services = services_get_bookable_with_salon(
                    salon_id=data["salon"], service_ids=[item["service"] for item in requested]
                )
            booking = visit_create(
                customer=request.user,
                salon=services[0].salon,
                items=[
                    RequestedItem(service, item.get("staff"))
                    for service, item in zip(services, requested, strict=True)
                ],
                start=data["start"],
            )
            return Response(BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

        return idempotent_response(request, scope="bookings.create", handler=create)


class BookingDetailView(APIView):
    @extend_schema(
        operation_id="bookings_retrieve", responses={200: BookingSerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, booking_id: int) -> Response:
        return Response(
            BookingSerializer(booking_get_for_user(user=request.user, booking_id=booking_id)).data
        )


class BookingCancelView(APIView):
    @extend_schema(
        operation_id="bookings_cancel",
        request=BookingCancelSerializer,
        responses={
            200: BookingSerializer,
            **error_responses(400, 401, 404, 409, codes={409: "not_cancellable"}),
        },
    )
    def post(self, request: Request, booking_id: int) -> Response:
        payload = BookingCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        booking = booking_cancel(
            booking_id=booking.pk, actor=request.user, reason=payload.validated_data["reason"]
        )
        return Response(BookingSerializer(booking).data)


class BookingRescheduleView(APIView):
    @extend_schema(
        operation_id="bookings_reschedule",
        request=BookingRescheduleSerializer,
        responses={
            200: BookingRescheduledSerializer,
            **error_responses(400, 401, 404, 409, codes=_RESCHEDULE_ERRORS),
        },
    )
    def post(self, request: Request, booking_id: int) -> Response:
        """Moves the booking, re-priced at the (new) staff member's price for the service. The customer
        may move a paid booking only while cancelling it would still refund everything; the salon's
        staff and managers whatever the tiers. A paid booking is never re-priced upwards (409
        `price_changed`, unchanged); a lower price refunds the difference (`refund_halalas`)."""
        payload = BookingRescheduleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        moved = booking_reschedule(
            booking_id=booking.pk,
            actor=request.user,
            start=payload.validated_data["start"],
            staff_id=payload.validated_data.get("staff"),
            item_staff=(
                [item["staff"] for item in payload.validated_data["items"]]
                if "items" in payload.validated_data
                else None
            ),
        )
        return Response(
            BookingRescheduledSerializer(moved.booking, context={"refund_halalas": moved.refund_halalas}).data
        )


_CLOSE_RESPONSES = {
    200: BookingSerializer,
    **error_responses(401, 403, 404, 409, codes={409: "not_started, invalid_booking_state"}),
}


class BookingCompleteView(APIView):
    @extend_schema(operation_id="bookings_complete", request=None, responses=_CLOSE_RESPONSES)
    def post(self, request: Request, booking_id: int) -> Response:
        """Staff and managers of the salon, once the booking has started."""
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        return Response(BookingSerializer(booking_complete(booking_id=booking.pk, actor=request.user)).data)


class BookingNoShowView(APIView):
    @extend_schema(operation_id="bookings_no_show", request=None, responses=_CLOSE_RESPONSES)
    def post(self, request: Request, booking_id: int) -> Response:
        """Staff and managers of the salon, once the booking has started."""
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)
        return Response(
            BookingSerializer(booking_mark_no_show(booking_id=booking.pk, actor=request.user)).data
        )
