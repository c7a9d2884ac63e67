from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.selectors import health_report

_HealthSerializer = inline_serializer(
    "Health",
    fields={
        "database": serializers.ChoiceField(choices=["ok", "down"]),
        "broker": serializers.ChoiceField(choices=["ok", "down"]),
        "workers": serializers.IntegerField(help_text="Celery workers answering a ping."),
        "beat_last_seen": serializers.DateTimeField(allow_null=True, help_text="Last beat heartbeat."),
    },
)


class HealthView(APIView):
    """Liveness of the API's dependencies, for load balancers and ops. 503 names what is down."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(operation_id="health", responses={200: _HealthSerializer, 503: _HealthSerializer})
    def get(self, request: Request) -> Response:
        report = health_report()
        return Response(asdict(report), status=200 if report.healthy else 503)
