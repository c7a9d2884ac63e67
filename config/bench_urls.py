"""The benchmark's root URLconf, selected by `make bench` only (DJANGO_URLCONF=config.bench_urls): every
real URL, plus the baselines its rows compare with. Production never loads it, and no production code
path carries a switch for it: a baseline here is a view of its own.

- `bench/insert-one/`: the bare view P2 compares booking creation with.
- `bench/salons/<id>/availability-as-shipped/`: the availability answer as it was before issue 17: the
  salon and the service in two queries, the slots from the engine as it was (read from git history by
  config/bench_engine_as_shipped.py), the body built as dicts and rendered by DRF's JSONRenderer. P8
  times it side by side with the real one. The schedules load, throttles and middleware are today's.
  tests/salons/test_availability_body.py holds the two to the same bytes."""

import uuid
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.bookings import schedules as booking_schedules
from backend.bookings.salon_serializers import AvailabilityQuerySerializer
from backend.bookings.salon_views import AvailabilityView
from backend.core.models import IdempotencyRecord
from backend.salons import selectors
from backend.salons.models import Salon, Service
from config.bench_engine_as_shipped import engine
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django reads them
from config.urls import urlpatterns as real_urlpatterns

# Loaded with the URLconf, so that a gunicorn worker reads it before its first request, not during one.
engine_as_shipped = engine()

AVAILABILITY_AS_SHIPPED_PATH = "bench/salons/<int:salon_id>/availability-as-shipped/"


class InsertOneRowView(APIView):
    """A bare DRF view behind the API's own authentication (JWT), permission, throttling and middleware,
    that INSERTs one row. It borrows the idempotency table rather than adding a model for the benchmark;
    the rows live in the bench database only. Booking creation's cost above this is the booking's own."""

    def post(self, request: Request) -> Response:
        record = IdempotencyRecord.objects.create(
            user=request.user, scope="bench.baseline", key=uuid.uuid4().hex, request_hash=""
        )
        return Response({"id": record.pk}, status=status.HTTP_201_CREATED)


def availability_for(
    *, salon: Salon, service: Service, date_from: date, days: int, staff_id: int | None = None
) -> list[Any]:
    """backend.bookings.selectors.availability_for, with the engine as shipped before issue 17."""
    now = timezone.now()
    if not booking_schedules._dates_within_horizon(salon=salon, date_from=date_from, days=days, now=now):
        booking_schedules._refuse_unqualified_staff(salon=salon, service=service, staff_id=staff_id)
        return []
    schedules = booking_schedules.schedules_load(
        salon=salon, services=[service], date_from=date_from, days=days, staff_id=staff_id, now=now
    )
    return engine_as_shipped.slots_for_any_staff(
        rules=schedules.rules,
        staff_members=schedules.staff,
        buffer=schedules.buffer,
        date_from=date_from,
        days=days,
        now=now,
    )


def availability_representation(*, salon: Salon, slots: list[Any]) -> dict[str, Any]:
    """The body as shipped before issue 17: a dict per slot, each instant converted on its own."""
    tz = salon.tz
    return {
        "timezone": salon.timezone,
        "slots": [
            {
                "start": slot.start.astimezone(tz).isoformat(),
                "end": slot.end.astimezone(tz).isoformat(),
                "staff_id": slot.staff_id,
            }
            for slot in slots
        ],
    }


def service_get_bookable(*, salon: Salon, service_id: int) -> Service:
    """The service lookup as shipped before issue 17: a query of its own, after the salon's."""
    service = selectors.service_list_public(salon=salon).filter(id=service_id).first()
    if service is None:
        raise ValidationError({"service": [_("Unknown service.")]})
    return service


class AvailabilityAsShippedView(AvailabilityView):
    """The same view, throttles and middleware, on the path as shipped before issue 17."""

    resolves_salon_first = True  # the salon in a query of its own, before anything else

    def get(self, request: Request, salon_id: int) -> Response:
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        service = service_get_bookable(salon=self.salon, service_id=query.validated_data["service"][0])
        slots = availability_for(
            salon=self.salon,
            service=service,
            date_from=query.validated_data["date"],
            days=query.validated_data["days"],
            staff_id=query.validated_data.get("staff"),
        )
        return Response(availability_representation(salon=self.salon, slots=slots))


urlpatterns = [
    path("bench/insert-one/", InsertOneRowView.as_view(), name="bench-insert-one"),
    path(
        AVAILABILITY_AS_SHIPPED_PATH,
        AvailabilityAsShippedView.as_view(),
        name="bench-availability-as-shipped",
    ),
    *real_urlpatterns,
]
