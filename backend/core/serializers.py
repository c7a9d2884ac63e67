"""Serializer pieces every app uses: input fields as strict as the schema they publish (JSON strings and
booleans, datetimes with an offset), and the schema of the error body."""

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from backend.core.schema import FIELD_ERRORS_REF


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would also take 501234567 or true and turn them into text. And
    at most `max_length` characters as sent, as the schema's maxLength says: DRF measures the string
    after trimming its surrounding whitespace."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only, not "yes", "on" or 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset: a naive one is ambiguous, so it is a 400.
    With `earliest`/`latest`, a time outside [earliest, latest) is DRF's "Datetime value out of range"."""

    default_error_messages = {
        "naive": _("Include the UTC offset, for example 2026-12-01T16:30:00+03:00."),
    }

    def __init__(self, *, earliest: datetime | None = None, latest: datetime | None = None, **kwargs: Any):
        self.earliest = earliest
        self.latest = latest
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # out-of-range parts: the parent reports the format error
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        aware = super().to_internal_value(value)
        if (self.earliest and aware < self.earliest) or (self.latest and aware >= self.latest):
            self.fail("overflow")  # DRF's message, already translated
        return aware


# --- Errors (schema only: the exception handler writes them) ------------------------------------------
@extend_schema_field(FIELD_ERRORS_REF)
class FieldErrorsField(serializers.DictField):
    """`fields` of a validation_error: each field's messages, nested for nested input (the schema's
    FieldErrors component, backend/core/schema.py)."""


class ErrorDetailSerializer(serializers.Serializer):
    """The one error body's inside; a code may add its own fields (extras beyond these are allowed)."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `validation_error`.")
    message = serializers.CharField(help_text="For people, in the language of Accept-Language.")
    fields = FieldErrorsField(required=False)
    retry_after = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="`throttled`, `otp_throttled`, `request_in_progress`: seconds to wait before trying again.",
    )
    attempts_left = serializers.IntegerField(
        required=False, min_value=0, help_text="`otp_invalid`: wrong codes left before the code locks."
    )
    max_amount_halalas = serializers.IntegerField(
        required=False, help_text="`invalid_amount`: the most that may still be refunded."
    )


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers: `{"error": {"code", "message", "fields"?, ...}}`."""

    error = ErrorDetailSerializer()


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
            ErrorSerializer,
            description="; ".join(filter(None, [codes.get(status), _ERROR_DESCRIPTIONS[status]])),
        )
        for status in statuses
    }
