from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.bookings.models import Booking, BookingItem, BookingStatus, CancelledBy
from backend.bookings.visits import MAX_ITEMS
from backend.core.serializers import AwareDateTimeField, StrictCharField

MAX_ID = 2**63 - 1
MAX_REASON_LENGTH = 500


class BookingItemSerializer(serializers.ModelSerializer):
    """One service of the visit, with its staff member and times."""

    class Meta:
        model = BookingItem
        fields = ("service", "staff", "start", "end", "price_halalas")
        read_only_fields = fields


class BookingSerializer(serializers.ModelSerializer):
    """The contract's Booking (a visit of one or more items); times in the salon's own zone. `service`
    and `staff` are the first item's, `start` the first start, `end` the last end, `price_halalas` the
    sum."""

    items = BookingItemSerializer(many=True, read_only=True)

    # Declared: a read-only model field loses `allow_blank`, and the schema would not admit "".
    cancelled_by = serializers.ChoiceField(
        choices=CancelledBy.choices, allow_blank=True, read_only=True, help_text="Empty unless cancelled."
    )

    class Meta:
        model = Booking
        fields = (
            "id",
            "salon",
            "service",
            "staff",
            "start",
            "end",
            "status",
            "price_halalas",
            "currency",
            "payment_status",
            "hold_expires_at",
            "refund_halalas",
            "cancelled_at",
            "cancelled_by",
            "created_at",
            "items",
        )
        read_only_fields = fields

    def to_representation(self, instance: Booking) -> dict[str, Any]:
        # DRF renders datetimes in the current zone: make it the salon's for this booking.
        with timezone.override(instance.salon.tz):
            return super().to_representation(instance)


class BookingRescheduledSerializer(BookingSerializer):
    """The reschedule's answer: the booking as moved and re-priced."""

    refund_halalas = serializers.SerializerMethodField(
        help_text="What this move refunds: a paid booking moved to a lower price gets the difference back "
        "(0 otherwise). The refund is made in the background, as a cancellation's."
    )

    @extend_schema_field(serializers.IntegerField(min_value=0))
    def get_refund_halalas(self, instance: Booking) -> int:
        return self.context["refund_halalas"]


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class VisitItemInputSerializer(serializers.Serializer):
    service = _id_field()
    staff = _id_field(required=False, allow_null=True, help_text="Absent or null: anyone free then.")


class BookingCreateSerializer(serializers.Serializer):
    """One service (`service`, `staff`), or a visit of several back to back (`items`, in order): one of
    the two."""

    salon = _id_field()
    service = _id_field(required=False, help_text="One service; or give `items` instead.")
    start = AwareDateTimeField()
    staff = _id_field(required=False, allow_null=True, help_text="Absent or null: anyone free then.")
    items = VisitItemInputSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_ITEMS,
        help_text="A visit: its services in order (1 to 5), each with its staff member or anyone.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("items" in attrs) == ("service" in attrs):
            raise serializers.ValidationError(
                {"items": [_("Give either `service` (one service) or `items` (a visit), not both.")]}
            )
        if "items" in attrs and "staff" in attrs:
            raise serializers.ValidationError({"staff": [_("With `items`, give each item its `staff`.")]})
        if "items" not in attrs:
            attrs["items"] = [{"service": attrs.pop("service"), "staff": attrs.pop("staff", None)}]
        return attrs


class RescheduleItemSerializer(serializers.Serializer):
    staff = _id_field(allow_null=True, help_text="Null: anyone free then.")


class BookingRescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    staff = _id_field(
        required=False,
        allow_null=True,
        help_text="Absent or null: the same staff member(s); given: for every item.",
    )
    items = RescheduleItemSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_ITEMS,
        help_text="The visit's items in order, each re-picking its staff member (one entry per item).",
    )


class BookingCancelSerializer(serializers.Serializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=MAX_REASON_LENGTH, default="")


class StaffCancelUpcomingSerializer(BookingCancelSerializer):
    start = AwareDateTimeField(
        required=False, help_text="With `end`: only the bookings overlapping this time (a time off's, say)."
    )
    end = AwareDateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("start", "end") if name in attrs]
        if len(given) == 1:
            missing = "end" if given == ["start"] else "start"
            raise serializers.ValidationError({missing: [self.fields[missing].error_messages["required"]]})
        if given and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("The end must be after the start.")]})
        return attrs


class BulkCancellationSerializer(serializers.Serializer):
    cancelled = serializers.IntegerField(read_only=True, help_text="Bookings this call cancelled.")
    refund_halalas = serializers.IntegerField(
        read_only=True, help_text="Their refunds together: in full, as when the salon cancels one booking."
    )
    remaining = serializers.IntegerField(
        read_only=True, help_text="Upcoming bookings still left: call again while this is above 0."
    )


class BookingListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BookingStatus.choices, required=False)
    upcoming = serializers.BooleanField(
        required=False, default=False, help_text=_("true: only bookings that have not started yet.")
    )
