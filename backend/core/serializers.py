"""Serializer pieces every app uses: datetimes that must carry an offset, and the schema of the error body."""

from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset: a naive one is ambiguous, so it is a 400."""

    default_error_messages = {
        "naive": _("Include the UTC offset, for example 2026-12-01T16:30:00+03:00."),
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # out-of-range parts: the parent reports the format error
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


# --- Errors (schema only: the exception handler writes them) ------------------------------------------
_ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "error": inline_serializer(
            "ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(help_text="In the language of Accept-Language."),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    required=False,
                    help_text="validation_error only: the messages of each field.",
                ),
            },
        )
    },
)
_ERROR_DESCRIPTIONS = {
    400: "validation_error (with `fields`) or a rule's code",
    401: "not_authenticated or token_invalid",
    403: "permission_denied",
    404: "not_found: unknown, not yours to see, or a page past the last",
    409: "the request conflicts with the current state (its code says which)",
    415: "unsupported_media_type",
    429: "throttled, with `retry_after` and a Retry-After header",
    502: "a provider did not answer or refused (its code says which)",
    503: "a dependency is down",
}


def error_responses(*statuses: int, codes: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """Schema entries for an endpoint's error statuses; `codes` names a status's own codes, e.g.
    {400: "staff_not_qualified"}."""
    codes = codes or {}
    return {
        status: OpenApiResponse(
            _ErrorSerializer,
            description="; ".join(filter(None, [codes.get(status), _ERROR_DESCRIPTIONS[status]])),
        )
        for status in statuses
    }
