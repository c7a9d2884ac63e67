"""Bookings' endpoints under a salon, mounted beside salons' own (bookings/urls.py, same paths as ever):
the public availability, the manager's booking list and the cancellation of a staff member's upcoming
bookings. They live here because bookings builds on salons and salons imports no bookings code."""

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.bookings.availability_body import CONTENT_TYPE, availability_json, visit_availability_json
from backend.bookings.filters import SalonBookingFilter
from backend.bookings.list_selectors import booking_list_for_salon
from backend.bookings.models import Booking
from backend.bookings.salon_serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    SalonBookingSerializer,
)
from backend.bookings.selectors import availability_for, visit_availability_for
from backend.bookings.serializers import BulkCancellationSerializer, StaffCancelUpcomingSerializer
from backend.bookings.services import bookings_cancel_upcoming_of_staff
from backend.core.db_router import ReplicaReadsMixin
from backend.core.serializers import error_responses
from backend.salons import selectors
from backend.salons.permissions import ManagedSalonMixin, PublicSalonMixin, schema_only
from backend.salons.responses import MANAGE_INPUT_ERRORS


class AvailabilityView(ReplicaReadsMixin, PublicSalonMixin, APIView):
    resolves_salon_first = False  # two queries in all: the service with its salon, then the schedules

    @extend_schema(
        operation_id="salons_availability",
        tags=["catalog"],
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: AvailabilitySerializer,
            **error_responses(400, 404, codes={400: "staff_not_qualified"}),
        },
    )
    def get(self, request: Request, salon_id: int) -> HttpResponse:
        """Free slots of a service from `date` for `days` local days, sorted by start. A slot is listed
        only if booking it would succeed now; days past the booking horizon have none. With `service`
        repeated (a visit, up to 5 services in order), the starts at which the whole visit fits, each with
        its `items`; `staff` then applies to every item."""
        query = AvailabilityQuerySerializer(data=request.query_params)
        if not query.is_valid():
            selectors.salon_get_public(salon_id=salon_id)  # an unknown salon is a 404 whatever the query
            query.is_valid(raise_exception=True)
        service_ids = query.validated_data["service"]
        if len(service_ids) > 1:
            return self._visit(salon_id, service_ids, query.validated_data)
        service = selectors.service_get_bookable_in_public_salon(salon_id=salon_id, service_id=service_ids[0])
        self.use_salon(service.salon)
        slots = availability_for(
            salon=self.salon,
            service=service,
            date_from=query.validated_data["date"],
            days=query.validated_data["days"],
            staff_id=query.validated_data.get("staff"),
        )
        return HttpResponse(availability_json(salon=self.salon, slots=slots), content_type=CONTENT_TYPE)

    def _visit(self, salon_id: int, service_ids: list[int], query: dict) -> HttpResponse:
        """Several services: the starts at which the whole visit fits, each slot with its items."""
        services = selectors.services_get_bookable_in_public_salon(salon_id=salon_id, service_ids=service_ids)
        self.use_salon(services[0].salon)
        slots = visit_availability_for(
            salon=self.salon,
            services=services,
            date_from=query["date"],
            days=query["days"],
            staff_id=query.get("staff"),
        )
        body = visit_availability_json(salon=self.salon, services=service_ids, slots=slots)
        return HttpResponse(body, content_type=CONTENT_TYPE)


class StaffCancelUpcomingView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_staff_cancel_upcoming",
        tags=["manage"],
        request=StaffCancelUpcomingSerializer,
        responses={200: BulkCancellationSerializer, **MANAGE_INPUT_ERRORS},
    )
    def post(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """Cancels, as the salon, the staff member's bookings that have not started (with `start` and
        `end`, only those overlapping that time), removed staff members included: each refunded in full
        and its customer told. At most 50 a call, soonest first."""
        staff = selectors.staff_get_any_managed(salon=self.salon, staff_id=staff_id)
        payload = StaffCancelUpcomingSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = bookings_cancel_upcoming_of_staff(
            staff=staff,
            reason=data["reason"],
            overlapping=(data["start"], data["end"]) if "start" in data else None,
        )
        return Response(BulkCancellationSerializer(result).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_bookings_list",
        tags=["manage"],
        responses={200: SalonBookingSerializer(many=True), **error_responses(400, 401, 404)},
    )
)
class SalonBookingListView(ReplicaReadsMixin, ManagedSalonMixin, generics.ListAPIView):
    """The salon's bookings by start; `date` is a local date in the salon's time zone."""

    serializer_class = SalonBookingSerializer
    filterset_class = SalonBookingFilter

    def get_queryset(self) -> QuerySet[Booking]:
        if schema_only(self):
            return Booking.objects.none()
        return booking_list_for_salon(salon=self.salon)
