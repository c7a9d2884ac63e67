"""The public catalog: salons, their services and staff, and availability. Views validate input with a
serializer, call one selector, and serialize the result; under a salon they resolve it first (404 when
unknown) and show times in its time zone."""

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.bookings.selectors import availability_for, visit_availability_for
from backend.core.serializers import error_responses
from backend.salons import selectors
from backend.salons.availability_body import CONTENT_TYPE, availability_json, visit_availability_json
from backend.salons.filters import SalonFilter, StaffFilter
from backend.salons.models import Salon, Service, StaffMember
from backend.salons.permissions import PublicSalonMixin, schema_only
from backend.salons.responses import (
    PUBLIC_ERRORS,
    PUBLIC_LIST_ERRORS,
)
from backend.salons.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    SalonDetailSerializer,
    SalonListSerializer,
    ServicePublicSerializer,
    StaffPublicSerializer,
)


@extend_schema_view(
    get=extend_schema(
        operation_id="salons_list",
        tags=["catalog"],
        responses={200: SalonListSerializer(many=True), **PUBLIC_LIST_ERRORS},
    )
)
class SalonListView(generics.ListAPIView):
    """Salons, filtered by `search` (English or Arabic name) and `city`."""

    permission_classes = [AllowAny]
    serializer_class = SalonListSerializer
    filterset_class = SalonFilter

    def get_queryset(self) -> QuerySet[Salon]:
        return selectors.salon_list_public()


class SalonDetailView(PublicSalonMixin, APIView):
    @extend_schema(
        operation_id="salons_retrieve",
        tags=["catalog"],
        responses={200: SalonDetailSerializer, **PUBLIC_ERRORS},
    )
    def get(self, request: Request, salon_id: int) -> Response:
        """A salon with its settings and business hours (Sunday first)."""
        return Response(SalonDetailSerializer(self.salon, context={"request": request}).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="salons_services_list",
        tags=["catalog"],
        responses={200: ServicePublicSerializer(many=True), **PUBLIC_LIST_ERRORS},
    )
)
class ServiceListView(PublicSalonMixin, generics.ListAPIView):
    """The salon's services."""

    serializer_class = ServicePublicSerializer

    def get_queryset(self) -> QuerySet[Service]:
        if schema_only(self):
            return Service.objects.none()
        return selectors.service_list_public(salon=self.salon)


@extend_schema_view(
    get=extend_schema(
        operation_id="salons_staff_list",
        tags=["catalog"],
        responses={200: StaffPublicSerializer(many=True), **error_responses(400, 404)},
    )
)
class StaffListView(PublicSalonMixin, generics.ListAPIView):
    """The salon's staff, with the services each performs; `service` keeps those who perform it."""

    serializer_class = StaffPublicSerializer
    filterset_class = StaffFilter

    def get_queryset(self) -> QuerySet[StaffMember]:
        if schema_only(self):
            return StaffMember.objects.none()
        return selectors.staff_list_public(salon=self.salon)


class AvailabilityView(PublicSalonMixin, APIView):
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
