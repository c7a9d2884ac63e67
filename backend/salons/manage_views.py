"""Salon management (its managers) and platform administration (closures: closure_views.py; staff
invitations: invitation_views.py; the salon's bookings: bookings/salon_views.py). Views validate input
with a serializer, call one service or selector, and serialize the result; under a salon they resolve it
first (404 when not the caller's to manage) and show times in its time zone."""

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.permissions import IsPlatformAdmin
from backend.core.serializers import error_responses
from backend.salons import selectors, services
from backend.salons.absence_serializers import TimeOffSerializer
from backend.salons.extensions import settings_sections_save
from backend.salons.models import Salon, Service, StaffMember, TimeOff
from backend.salons.permissions import ManagedSalonMixin, schema_only
from backend.salons.responses import (
    MANAGE_ERRORS,
    MANAGE_INPUT_ERRORS,
    MANAGE_LIST_ERRORS,
    NO_CONTENT,
)
from backend.salons.serializers import (
    AdminSalonCreateSerializer,
    SalonSettingsInputSerializer,
    SalonSettingsSerializer,
    ServiceInputSerializer,
    ServiceManageSerializer,
    StaffInputSerializer,
    StaffManageSerializer,
    WeekRangeSerializer,
    week_input,
    week_representation,
)


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_salons_list",
        tags=["manage"],
        responses={200: SalonSettingsSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class ManagedSalonListView(generics.ListAPIView):
    """The salons the caller manages (every salon for a platform admin)."""

    serializer_class = SalonSettingsSerializer

    def get_queryset(self) -> QuerySet[Salon]:
        if schema_only(self):
            return Salon.objects.none()
        return selectors.salon_list_managed(user=self.request.user)


class SalonSettingsView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_salon_settings",
        tags=["manage"],
        responses={200: SalonSettingsSerializer, **MANAGE_ERRORS},
    )
    def get(self, request: Request, salon_id: int) -> Response:
        return Response(SalonSettingsSerializer(self.salon).data)

    @extend_schema(
        operation_id="manage_salon_settings_update",
        tags=["manage"],
        request=SalonSettingsInputSerializer(partial=True),
        responses={200: SalonSettingsSerializer, **MANAGE_INPUT_ERRORS},
    )
    def patch(self, request: Request, salon_id: int) -> Response:
        """Changes some settings. Cancellation tiers: `hours_before` unique and ≥ 0, `refund_percent`
        0..100, cancelling earlier never refunds less; cancelling later than the smallest `hours_before`
        refunds 0. `tax` (e-invoicing) is merged into the saved tax profile, which must end up complete."""
        payload = SalonSettingsInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        with transaction.atomic():
            salon = services.salon_update(salon=self.salon, data=payload.validated_data)
            settings_sections_save(salon=salon, data=payload.validated_data)  # e-invoicing's `tax`
        return Response(SalonSettingsSerializer(salon).data)


class BusinessHoursView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_business_hours",
        tags=["manage"],
        responses={200: WeekRangeSerializer(many=True), **MANAGE_ERRORS},
    )
    def get(self, request: Request, salon_id: int) -> Response:
        return Response(week_representation(self.salon.business_hours.all()))

    @extend_schema(
        operation_id="manage_business_hours_replace",
        tags=["manage"],
        request=WeekRangeSerializer(many=True),
        responses={200: WeekRangeSerializer(many=True), **MANAGE_INPUT_ERRORS},
    )
    def put(self, request: Request, salon_id: int) -> Response:
        """Replaces the whole week; a day without ranges is closed. Ranges of a day must not overlap."""
        payload = week_input(request.data)
        payload.is_valid(raise_exception=True)
        return Response(
            week_representation(
                services.business_hours_replace(salon=self.salon, ranges=payload.validated_data)
            )
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_services_list",
        tags=["manage"],
        responses={200: ServiceManageSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class ServiceManageListView(ManagedSalonMixin, generics.ListAPIView):
    serializer_class = ServiceManageSerializer

    def get_queryset(self) -> QuerySet[Service]:
        if schema_only(self):
            return Service.objects.none()
        return selectors.service_list_managed(salon=self.salon)

    @extend_schema(
        operation_id="manage_services_create",
        tags=["manage"],
        request=ServiceInputSerializer,
        responses={201: ServiceManageSerializer, **MANAGE_INPUT_ERRORS},
    )
    def post(self, request: Request, salon_id: int) -> Response:
        """`buffer_minutes`: cleanup time after the service, blocking the staff member.
        `processing_minutes`: time after the service during which the client stays (colour developing)
        but the staff member is free for others; a visit's next item starts after it."""
        payload = ServiceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service = services.service_create(salon=self.salon, **payload.validated_data)
        return Response(ServiceManageSerializer(service).data, status=status.HTTP_201_CREATED)


class ServiceManageDetailView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_services_retrieve",
        tags=["manage"],
        responses={200: ServiceManageSerializer, **MANAGE_ERRORS},
    )
    def get(self, request: Request, salon_id: int, service_id: int) -> Response:
        service = selectors.service_get_managed(salon=self.salon, service_id=service_id)
        return Response(ServiceManageSerializer(service).data)

    @extend_schema(
        operation_id="manage_services_update",
        tags=["manage"],
        request=ServiceInputSerializer(partial=True),
        responses={200: ServiceManageSerializer, **MANAGE_INPUT_ERRORS},
    )
    def patch(self, request: Request, salon_id: int, service_id: int) -> Response:
        service = selectors.service_get_managed(salon=self.salon, service_id=service_id)
        payload = ServiceInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        service = services.service_update(service=service, data=payload.validated_data)
        return Response(ServiceManageSerializer(service).data)

    @extend_schema(operation_id="manage_services_delete", tags=["manage"], responses=NO_CONTENT)
    def delete(self, request: Request, salon_id: int, service_id: int) -> Response:
        """Hides the service from the catalog and booking; existing bookings keep it."""
        services.service_deactivate(
            service=selectors.service_get_managed(salon=self.salon, service_id=service_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_staff_list",
        tags=["manage"],
        responses={200: StaffManageSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class StaffManageListView(ManagedSalonMixin, generics.ListAPIView):
    serializer_class = StaffManageSerializer

    def get_queryset(self) -> QuerySet[StaffMember]:
        if schema_only(self):
            return StaffMember.objects.none()
        return selectors.staff_list_managed(salon=self.salon)

    @extend_schema(
        operation_id="manage_staff_create",
        tags=["manage"],
        request=StaffInputSerializer,
        responses={
            201: StaffManageSerializer,
            **error_responses(400, 401, 404, codes={400: "invalid_phone, phone_region_not_allowed"}),
        },
    )
    def post(self, request: Request, salon_id: int) -> Response:
        """A `phone` links the user who logs in with it as this salon's staff, once they accept the
        invitation it sends (`/me/staff-invitations/`): until then `invitation` is `pending` and
        `user_linked` false. `overrides` give this staff member their own duration or price for services
        among `service_ids`."""
        payload = StaffInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        staff = services.staff_create(salon=self.salon, **payload.validated_data)
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=staff.id)
        return Response(StaffManageSerializer(staff).data, status=status.HTTP_201_CREATED)


class StaffManageDetailView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_staff_retrieve",
        tags=["manage"],
        responses={200: StaffManageSerializer, **MANAGE_ERRORS},
    )
    def get(self, request: Request, salon_id: int, staff_id: int) -> Response:
        return Response(
            StaffManageSerializer(selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)).data
        )

    @extend_schema(
        operation_id="manage_staff_update",
        tags=["manage"],
        request=StaffInputSerializer(partial=True),
        responses={
            200: StaffManageSerializer,
            **error_responses(400, 401, 404, codes={400: "invalid_phone, phone_region_not_allowed"}),
        },
    )
    def patch(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """`service_ids` and `overrides` each replace what they name; sending only `service_ids` keeps the
        overrides of the services kept."""
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)
        payload = StaffInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        services.staff_update(staff=staff, data=payload.validated_data)
        return Response(
            StaffManageSerializer(selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)).data
        )

    @extend_schema(operation_id="manage_staff_delete", tags=["manage"], responses=NO_CONTENT)
    def delete(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """Removes the staff member from the catalog and booking; existing bookings keep them (see
        `cancel-upcoming/`)."""
        services.staff_deactivate(staff=selectors.staff_get_managed(salon=self.salon, staff_id=staff_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkingHoursView(ManagedSalonMixin, APIView):
    @extend_schema(
        operation_id="manage_working_hours",
        tags=["manage"],
        responses={200: WeekRangeSerializer(many=True), **MANAGE_ERRORS},
    )
    def get(self, request: Request, salon_id: int, staff_id: int) -> Response:
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)
        return Response(week_representation(staff.working_hours.all()))

    @extend_schema(
        operation_id="manage_working_hours_replace",
        tags=["manage"],
        request=WeekRangeSerializer(many=True),
        responses={200: WeekRangeSerializer(many=True), **MANAGE_INPUT_ERRORS},
    )
    def put(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """Replaces the staff member's whole week; a day without ranges is off. Slots also need the salon
        to be open, so hours outside business hours offer nothing."""
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)
        payload = week_input(request.data)
        payload.is_valid(raise_exception=True)
        return Response(
            week_representation(services.working_hours_replace(staff=staff, ranges=payload.validated_data))
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_time_off_list",
        tags=["manage"],
        responses={200: TimeOffSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class TimeOffListView(ManagedSalonMixin, generics.ListAPIView):
    serializer_class = TimeOffSerializer

    def get_queryset(self) -> QuerySet[TimeOff]:
        if schema_only(self):
            return TimeOff.objects.none()
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=self.kwargs["staff_id"])
        return selectors.time_off_list(staff=staff)

    @extend_schema(
        operation_id="manage_time_off_create",
        tags=["manage"],
        request=TimeOffSerializer,
        responses={201: TimeOffSerializer, **MANAGE_INPUT_ERRORS},
    )
    def post(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """Times need their UTC offset (a naive time is a 400). With `cancel_bookings`, the staff member's
        bookings overlapping it are cancelled by the salon in the background (`cancellation`)."""
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)
        payload = TimeOffSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        time_off = services.time_off_create(staff=staff, **payload.validated_data)
        created = selectors.time_off_get_managed(staff=staff, time_off_id=time_off.pk)  # with its count
        return Response(TimeOffSerializer(created).data, status=status.HTTP_201_CREATED)


class TimeOffDetailView(ManagedSalonMixin, APIView):
    @extend_schema(operation_id="manage_time_off_delete", tags=["manage"], responses=NO_CONTENT)
    def delete(self, request: Request, salon_id: int, staff_id: int, time_off_id: int) -> Response:
        staff = selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)
        services.time_off_delete(
            time_off=selectors.time_off_get_managed(staff=staff, time_off_id=time_off_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminSalonCreateView(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(
        operation_id="admin_salons_create",
        tags=["admin"],
        request=AdminSalonCreateSerializer,
        responses={
            201: SalonSettingsSerializer,
            **error_responses(400, 401, 403, codes={400: "invalid_phone, phone_region_not_allowed"}),
        },
    )
    def post(self, request: Request) -> Response:
        """Creates a salon managed by the user with `manager_phone` (created if new). Platform admins only."""
        payload = AdminSalonCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        salon = services.salon_create(**payload.validated_data)
        return Response(SalonSettingsSerializer(salon).data, status=status.HTTP_201_CREATED)
