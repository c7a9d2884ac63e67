"""The benchmark's root URLconf, selected by `make bench` only (DJANGO_URLCONF=config.bench_urls): every
real URL, plus the baseline view that P2 compares booking creation with. Production never loads it."""

import uuid

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.models import IdempotencyRecord
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django reads them
from config.urls import urlpatterns as real_urlpatterns


class InsertOneRowView(APIView):
    """A bare DRF view behind the API's own authentication (JWT), permission, throttling and middleware,
    that INSERTs one row. It borrows the idempotency table rather than adding a model for the benchmark;
    the rows live in the bench database only. Booking creation's cost above this is the booking's own."""

    def post(self, request: Request) -> Response:
        record = IdempotencyRecord.objects.create(
            user=request.user, scope="bench.baseline", key=uuid.uuid4().hex, request_hash=""
        )
        return Response({"id": record.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("bench/insert-one/", InsertOneRowView.as_view(), name="bench-insert-one"),
    *real_urlpatterns,
]
