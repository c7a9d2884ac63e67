from dataclasses import asdict

from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.selectors import health_report

SCHEMA_DEFAULT_LANGUAGE = "en"

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


def _supported(code: str | None) -> str | None:
    try:
        return translation.get_supported_language_variant(code) if code else None
    except LookupError:
        return None


def asked_language(request) -> str | None:
    """The language of `?lang=`, else the first of Accept-Language the API speaks, else None."""
    language = _supported(request.GET.get("lang"))
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        language = language or _supported(code)
    return language


class SchemaView(SpectacularAPIView):
    """`/api/schema/`: the descriptions a client generator copies into its code are English unless the
    client asks for a language the API speaks, with `?lang=` or Accept-Language; DJANGO_LANGUAGE_CODE
    (the API's default for messages) does not apply here."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        language = asked_language(request) or SCHEMA_DEFAULT_LANGUAGE
        with patched_settings(self.custom_settings), translation.override(language):
            response = self._get_schema_response(request)
        response["Content-Language"] = language
        return response
