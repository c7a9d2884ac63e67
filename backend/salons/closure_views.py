"""Closures of a salon: whole local days, one or several, and the cancellation of what is booked in them."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.salons import selectors, services
from backend.salons.absence_serializers import ClosureSerializer
from backend.salons.models import Closure
from backend.salons.permissions import ManagedSalonMixin, schema_only
from backend.salons.responses import MANAGE_INPUT_ERRORS, MANAGE_LIST_ERRORS, NO_CONTENT


@extend_schema_view(
    get=extend_schema(
        operation_id="manage_closures_list",
        tags=["manage"],
        responses={200: ClosureSerializer(many=True), **MANAGE_LIST_ERRORS},
    )
)
class ClosureListView(ManagedSalonMixin, generics.ListAPIView):
    """The salon's closures by first date, each with the active bookings on its dates and the state of
    their cancellation."""

    serializer_class = ClosureSerializer

    def get_queryset(self) -> QuerySet[Closure]:
        if schema_only(self):
            return Closure.objects.none()
        return selectors.closure_list(salon=self.salon)

    @extend_schema(
        operation_id="manage_closures_create",
        tags=["manage"],
        request=ClosureSerializer,
        responses={201: ClosureSerializer, **MANAGE_INPUT_ERRORS},
    )
    def post(self, request: Request, salon_id: int) -> Response:
        """The whole salon is closed from `date` to `end_date` (local dates, inclusive; one date without
        `end_date`); a date another closure already closes is a 400. With `cancel_bookings`, the bookings
        on those dates are cancelled by the salon in the background: GET shows `bookings_in_the_way`
        falling to 0 and `cancellation` becoming `done`."""
        payload = ClosureSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        closure = services.closure_create(salon=self.salon, **payload.validated_data)
        created = selectors.closure_get_managed(salon=self.salon, closure_id=closure.pk)  # with its count
        return Response(ClosureSerializer(created).data, status=status.HTTP_201_CREATED)


class ClosureDetailView(ManagedSalonMixin, APIView):
    @extend_schema(operation_id="manage_closures_delete", tags=["manage"], responses=NO_CONTENT)
    def delete(self, request: Request, salon_id: int, closure_id: int) -> Response:
        """Reopens the closure's dates; a cancellation under way stops (what it cancelled stays cancelled)."""
        services.closure_delete(
            closure=selectors.closure_get_managed(salon=self.salon, closure_id=closure_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
