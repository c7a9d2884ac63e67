"""Special hours in the management API: a salon's (its business hours) and a staff member's (their working
hours), each a list of date spans whose own week replaces the weekly one on those dates."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.serializers import StrictCharField, error_responses
from backend.salons import selectors
from backend.salons.models import MAX_SPECIAL_HOURS_DAYS, SpecialHours, StaffMember
from backend.salons.permissions import ManagedSalonMixin, schema_only
from backend.salons.responses import MANAGE_LIST_ERRORS, NO_CONTENT
from backend.salons.serializers import WeekRangeSerializer
from backend.salons.special_hours import (
    special_hours_create,
    special_hours_delete,
    special_hours_get_managed,
    special_hours_list,
    with_bookings_in_the_way,
)

CREATE_ERRORS = error_responses(400, 401, 404, codes={400: "overlapping_special_hours"})


class SpecialHoursSerializer(serializers.ModelSerializer):
    start_date = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="The first local date.")
    end_date = serializers.DateField(
        input_formats=["%Y-%m-%d"],
        help_text=f"The last local date, included; at most {MAX_SPECIAL_HOURS_DAYS} days from the first.",
    )
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)
    hours = WeekRangeSerializer(
        many=True,
        max_length=7 * 24,
        help_text="The week on those dates; a weekday absent is closed (off). A range ending at or before "
        "its start ends the next day, also after the last date.",
    )
    bookings_in_the_way = serializers.IntegerField(
        read_only=True,
        help_text="Active bookings starting on these dates that these hours no longer hold: they stay booked "
        "(cancel or move them).",
    )

    class Meta:
        model = SpecialHours
        fields = ("id", "start_date", "end_date", "reason", "hours", "bookings_in_the_way")

    def to_representation(self, span: SpecialHours) -> dict[str, Any]:
        return {
            "id": span.pk,
            "start_date": span.start_date.isoformat(),
            "end_date": span.end_date.isoformat(),
            "reason": span.reason,
            "hours": span.hours,  # as saved, Sunday first
            "bookings_in_the_way": span.bookings_in_the_way,
        }


class _SpecialHoursOwnerMixin(ManagedSalonMixin):
    """The owner of the spans: the salon, or one of its staff members when the URL names one."""

    def owner_staff(self) -> StaffMember | None:
        """The staff member of the URL (404 unless an active one of the salon), read once a request."""
        if not hasattr(self, "_owner"):
            staff_id = self.kwargs.get("staff_id")
            self._owner = (
                None if staff_id is None else selectors.staff_get_managed(salon=self.salon, staff_id=staff_id)
            )
        return self._owner


class _SpecialHoursListView(_SpecialHoursOwnerMixin, generics.ListAPIView):
    serializer_class = SpecialHoursSerializer

    def get_queryset(self) -> QuerySet[SpecialHours]:
        if schema_only(self):
            return SpecialHours.objects.none()
        return special_hours_list(salon=self.salon, staff=self.owner_staff())

    def paginate_queryset(self, queryset: QuerySet[SpecialHours]) -> Any:
        page = super().paginate_queryset(queryset)
        return with_bookings_in_the_way(page, salon=self.salon, staff=self.owner_staff())

    def create_span(self, request: Request) -> Response:
        staff = self.owner_staff()
        payload = SpecialHoursSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        span = special_hours_create(salon=self.salon, staff=staff, **payload.validated_data)
        with_bookings_in_the_way([span], salon=self.salon, staff=staff)
        return Response(SpecialHoursSerializer(span).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_special_hours_list",
        summary="List a salon's special hours",
        tags=["manage"],
        responses={200: SpecialHoursSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class SalonSpecialHoursListView(_SpecialHoursListView):
    @extend_schema(
        operation_id="manage_special_hours_create",
        summary="Set a salon's hours for a span of dates",
        tags=["manage"],
        request=SpecialHoursSerializer,
        responses={201: SpecialHoursSerializer, **CREATE_ERRORS},
    )
    def post(self, request: Request, salon_id: int) -> Response:
        """On every date from `start_date` to `end_date` (the salon's local dates) its business hours are
        those of `hours` for that weekday. Spans of one salon may not share a date."""
        return self.create_span(request)


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_staff_special_hours_list",
        summary="List a staff member's special hours",
        tags=["manage"],
        responses={200: SpecialHoursSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class StaffSpecialHoursListView(_SpecialHoursListView):
    @extend_schema(
        operation_id="manage_staff_special_hours_create",
        summary="Set a staff member's hours for a span of dates",
        tags=["manage"],
        request=SpecialHoursSerializer,
        responses={201: SpecialHoursSerializer, **CREATE_ERRORS},
    )
    def post(self, request: Request, salon_id: int, staff_id: int) -> Response:
        """On every date of the span the staff member's working hours are those of `hours` for that
        weekday. Spans of one staff member may not share a date."""
        return self.create_span(request)


class SalonSpecialHoursDetailView(_SpecialHoursOwnerMixin, APIView):
    @extend_schema(
        operation_id="manage_special_hours_delete",
        summary="Delete a salon's special hours",
        tags=["manage"],
        responses=NO_CONTENT,
    )
    def delete(self, request: Request, salon_id: int, special_hours_id: int) -> Response:
        special_hours_delete(span=special_hours_get_managed(salon=self.salon, span_id=special_hours_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffSpecialHoursDetailView(_SpecialHoursOwnerMixin, APIView):
    @extend_schema(
        operation_id="manage_staff_special_hours_delete",
        summary="Delete a staff member's special hours",
        tags=["manage"],
        responses=NO_CONTENT,
    )
    def delete(self, request: Request, salon_id: int, staff_id: int, special_hours_id: int) -> Response:
        span = special_hours_get_managed(salon=self.salon, span_id=special_hours_id, staff=self.owner_staff())
        special_hours_delete(span=span)
        return Response(status=status.HTTP_204_NO_CONTENT)
