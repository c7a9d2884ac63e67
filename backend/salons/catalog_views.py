"""The public catalog: salons, their services and staff (their availability is bookings',
bookings/salon_views.py). Views validate input with a serializer, call one selector, and serialize the
result; under a salon they resolve it first (404 when unknown) and show times in its time zone."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.db_router import ReplicaReadsMixin
from backend.core.serializers import error_responses
from backend.salons import selectors
from backend.salons.filters import SalonFilter, StaffFilter
from backend.salons.models import Salon, Service, StaffMember
from backend.salons.permissions import PublicSalonMixin, schema_only
from backend.salons.responses import (
    PUBLIC_ERRORS,
    PUBLIC_LIST_ERRORS,
)
from backend.salons.serializers import (
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
class SalonListView(ReplicaReadsMixin, generics.ListAPIView):
    """Salons, filtered by `search` (English or Arabic name) and `city`."""

    permission_classes = [AllowAny]
    serializer_class = SalonListSerializer
    filterset_class = SalonFilter

    def get_queryset(self) -> QuerySet[Salon]:
        return selectors.salon_list_public()


class SalonDetailView(ReplicaReadsMixin, PublicSalonMixin, APIView):
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
class ServiceListView(ReplicaReadsMixin, PublicSalonMixin, generics.ListAPIView):
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
class StaffListView(ReplicaReadsMixin, PublicSalonMixin, generics.ListAPIView):
    """The salon's staff, with the services each performs; `service` keeps those who perform it."""

    serializer_class = StaffPublicSerializer
    filterset_class = StaffFilter

    def get_queryset(self) -> QuerySet[StaffMember]:
        if schema_only(self):
            return StaffMember.objects.none()
        return selectors.staff_list_public(salon=self.salon)
