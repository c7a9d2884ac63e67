"""Time off and closures: when a staff member or the whole salon is away, the active bookings in the way,
and the background cancellation of those bookings (`cancel_bookings`)."""

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backend.core.serializers import AwareDateTimeField, StrictBooleanField, StrictCharField
from backend.salons.models import MAX_CLOSURE_DAYS, CancellationState, Closure, TimeOff

# Time off is kept and shown again in the salon's zone. Before 2000 some zones were still on local mean
# time, an offset with seconds (Riyadh: +03:06:52 until 1947) that RFC 3339 cannot write; far enough ahead,
# moving to a zone east of UTC overflows datetime. Neither is time off anyone takes.
TIME_OFF_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
TIME_OFF_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _time_off_datetime_field() -> AwareDateTimeField:
    return AwareDateTimeField(
        earliest=TIME_OFF_EARLIEST, latest=TIME_OFF_LATEST, help_text="From the year 2000 to 2199."
    )


def _bookings_in_the_way_field(what: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        read_only=True,
        help_text=f"Active bookings {what}. They stay booked unless `cancel_bookings` was sent, in which "
        "case the count falls to 0 as the background cancels them (a booking already started when its turn "
        "came stays).",
    )


def _cancel_bookings_field(what: str) -> StrictBooleanField:
    return StrictBooleanField(
        write_only=True,
        default=False,
        help_text=f"True: the active bookings {what} that have not started are cancelled by the salon in the "
        "background, each refunded in full and its customer told once; `cancellation` and "
        "`bookings_in_the_way` show the progress.",
    )


def _cancellation_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        CancellationState.choices,
        read_only=True,
        allow_null=True,
        help_text="null: no cancellation asked; `pending`: the background is cancelling the bookings in the "
        "way; `done`: finished.",
    )


class TimeOffSerializer(serializers.ModelSerializer):
    start = _time_off_datetime_field()
    end = _time_off_datetime_field()
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)
    cancel_bookings = _cancel_bookings_field("of this staff member overlapping this time")
    bookings_in_the_way = _bookings_in_the_way_field("of this staff member overlapping this time")
    cancellation = _cancellation_field()

    class Meta:
        model = TimeOff
        fields = ("id", "start", "end", "reason", "cancel_bookings", "bookings_in_the_way", "cancellation")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("The end must be after the start.")]})
        return attrs


class ClosureSerializer(serializers.ModelSerializer):
    date = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="The first closed local date.")
    end_date = serializers.DateField(
        input_formats=["%Y-%m-%d"],
        required=False,
        help_text=f"The last closed local date, inclusive (default `date`); at most {MAX_CLOSURE_DAYS} "
        "dates in all. Closures of a salon never share a date.",
    )
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)
    cancel_bookings = _cancel_bookings_field("of the salon starting on these dates")
    bookings_in_the_way = _bookings_in_the_way_field("of the salon starting on these dates")
    cancellation = _cancellation_field()

    class Meta:
        model = Closure
        fields = (
            "id",
            "date",
            "end_date",
            "reason",
            "cancel_bookings",
            "bookings_in_the_way",
            "cancellation",
        )
