"""Input and output shapes of the salon API. Inputs only validate shapes and single values; the rules
that span rows (overlapping ranges, a salon's own services) are the services'."""

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import humanize_datetime

from backend.core.serializers import StrictBooleanField, StrictCharField
from backend.salons.extensions import ExtensibleSerializer
from backend.salons.models import (
    DAY_CODES,
    MAX_HORIZON_DAYS,
    MAX_SLOT_STEP_MINUTES,
    MAX_UNPAID_HOLDS,
    WEEK_ORDER,
    InvitationStatus,
    Salon,
    Service,
    StaffMember,
)
from backend.salons.services import SALON_SETTINGS_FIELDS, ServiceOverride, WeekRange
from backend.salons.validators import validate_cancellation_policy, validate_timezone

MAX_ID = 2**63 - 1  # ids are bigints; a larger number is a 400, not a database error
MINUTES_A_DAY = 24 * 60

MAX_PRICE_HALALAS = 10_000_000  # 100,000 SAR: far above any salon service, far below the column's limit


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def localized_name_field() -> serializers.CharField:
    return serializers.CharField(
        source="localized_name", read_only=True, help_text="`name_ar` for Accept-Language: ar when set."
    )


# --- Weekly hours ---------------------------------------------------------------------------------------
# Two digits each: Python's strptime would also take "9:5", which the schema does not describe.
HOUR_MINUTE_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field({"type": "string", "pattern": HOUR_MINUTE_PATTERN, "example": "09:00"})
class HourMinuteField(serializers.TimeField):
    """A local time of day as the contract writes it, "09:00" ("09:00:00" is taken too). Not OpenAPI's
    `format: time`, which is RFC 3339's "09:00:00Z" with seconds and an offset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)

    def to_internal_value(self, value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(HOUR_MINUTE_PATTERN, value):
            self.fail("invalid", format=humanize_datetime.time_formats(self.input_formats))
        return super().to_internal_value(value)


class WeekRangeSerializer(serializers.Serializer):
    """A range starting on `day`; an `end` at or before `start` is on the next day ("00:00": midnight)."""

    day = serializers.ChoiceField(choices=DAY_CODES, help_text="sun mon tue wed thu fri sat")
    start = HourMinuteField()
    end = HourMinuteField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "day": DAY_CODES[instance.weekday],
            "start": instance.start.strftime("%H:%M"),
            "end": instance.end.strftime("%H:%M"),
        }

    def validate(self, attrs: dict[str, Any]) -> WeekRange:
        if attrs["end"] == attrs["start"]:
            raise serializers.ValidationError({"end": [_("A range must last less than 24 hours.")]})
        return WeekRange(weekday=DAY_CODES.index(attrs["day"]), start=attrs["start"], end=attrs["end"])


def week_representation(rows: Any) -> list[dict[str, Any]]:
    """A week's ranges, Sunday first, as the API shows them."""
    ordered = sorted(rows, key=lambda row: (WEEK_ORDER.index(row.weekday), row.start))
    return WeekRangeSerializer(ordered, many=True).data


def week_input(data: Any) -> serializers.ListSerializer:
    """A whole week to replace: a list of ranges (more ranges than hours in a week is no schedule)."""
    return WeekRangeSerializer(data=data, many=True, max_length=7 * 24)


# --- Public catalog -------------------------------------------------------------------------------------
class SalonListSerializer(ExtensibleSerializer, serializers.ModelSerializer):
    extension_group, extension_slots = "salon", ("cover_url", "gallery")  # photos'

    name = localized_name_field()
    rating = serializers.DecimalField(max_digits=3, decimal_places=2, coerce_to_string=False, read_only=True)

    class Meta:
        model = Salon
        fields = (
            "id",
            "name",
            "city",
            "timezone",
            "rating",
            "review_count",
            "prepayment_required",
            "cover_url",
        )


class SalonDetailSerializer(SalonListSerializer):
    business_hours = serializers.SerializerMethodField()

    class Meta(SalonListSerializer.Meta):
        fields = (
            *SalonListSerializer.Meta.fields,
            "slot_step_minutes",
            "min_notice_minutes",
            "horizon_days",
            "hold_minutes",
            "cancellation_policy",
            "business_hours",
            "gallery",
        )

    @extend_schema_field(WeekRangeSerializer(many=True))
    def get_business_hours(self, salon: Salon) -> list[dict[str, str]]:
        return week_representation(salon.business_hours.all())


class ServicePublicSerializer(serializers.ModelSerializer):
    name = localized_name_field()

    class Meta:
        model = Service
        fields = (
            "id",
            "name",
            "duration_minutes",
            "price_halalas",
            "currency",
            "buffer_minutes",
            "processing_minutes",
        )


class StaffPublicSerializer(ExtensibleSerializer, serializers.ModelSerializer):
    extension_group, extension_slots = "staff", ("avatar_url",)  # photos'

    name = localized_name_field()
    rating = serializers.DecimalField(max_digits=3, decimal_places=2, coerce_to_string=False, read_only=True)
    service_ids = serializers.SerializerMethodField()

    class Meta:
        model = StaffMember
        fields = ("id", "name", "rating", "review_count", "service_ids", "avatar_url")

    def get_service_ids(self, staff: StaffMember) -> list[int]:
        return [link.service_id for link in staff.staff_services.all()]


# --- Management -----------------------------------------------------------------------------------------
class CancellationTierSerializer(serializers.Serializer):
    hours_before = serializers.IntegerField(min_value=0, max_value=MAX_HORIZON_DAYS * 24)
    refund_percent = serializers.IntegerField(min_value=0, max_value=100)


class SalonSettingsSerializer(ExtensibleSerializer, serializers.ModelSerializer):
    """Output of the settings endpoints and of platform salon creation: names as stored, both languages."""

    extension_group, extension_slots = "settings", ("tax",)  # e-invoicing's
    rating = serializers.DecimalField(max_digits=3, decimal_places=2, coerce_to_string=False, read_only=True)
    cancellation_policy = CancellationTierSerializer(many=True)

    class Meta:
        model = Salon
        fields = ("id", *SALON_SETTINGS_FIELDS, "rating", "review_count", "tax")


class SalonSettingsInputSerializer(ExtensibleSerializer, serializers.Serializer):
    extension_group, extension_slots = "settings_input", ("tax",)  # e-invoicing's

    name = StrictCharField(max_length=200)
    name_ar = StrictCharField(max_length=200, allow_blank=True)
    city = StrictCharField(max_length=100)
    timezone = StrictCharField(max_length=64, validators=[validate_timezone])
    slot_step_minutes = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_STEP_MINUTES)
    min_notice_minutes = serializers.IntegerField(min_value=0, max_value=MAX_HORIZON_DAYS * MINUTES_A_DAY)
    horizon_days = serializers.IntegerField(min_value=0, max_value=MAX_HORIZON_DAYS)
    prepayment_required = StrictBooleanField()
    hold_minutes = serializers.IntegerField(min_value=1, max_value=MINUTES_A_DAY)
    max_unpaid_holds = serializers.IntegerField(
        min_value=1,
        max_value=MAX_UNPAID_HOLDS,
        help_text="Unpaid holds (`pending_payment` bookings) one customer may have here at a time; one more "
        "is 409 `too_many_holds`.",
    )
    waitlist_offer_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MINUTES_A_DAY,
        help_text="Minutes a freed slot offered to a waitlisted customer stays held for them (default 15).",
    )
    cancellation_policy = CancellationTierSerializer(many=True, max_length=20)

    def validate_cancellation_policy(self, value: list[dict[str, int]]) -> list[dict[str, int]]:
        tiers = [dict(tier) for tier in value]
        validate_cancellation_policy(tiers)
        return tiers


class AdminSalonCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    name_ar = StrictCharField(max_length=200, required=False, allow_blank=True)
    city = StrictCharField(max_length=100)
    timezone = StrictCharField(max_length=64, required=False, validators=[validate_timezone])
    manager_phone = StrictCharField(max_length=32, help_text="Any common form; read as Saudi without +.")


class ServiceManageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = (
            "id",
            "name",
            "name_ar",
            "duration_minutes",
            "price_halalas",
            "currency",
            "buffer_minutes",
            "processing_minutes",
        )


class ServiceInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    name_ar = StrictCharField(max_length=200, required=False, allow_blank=True)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MINUTES_A_DAY)
    price_halalas = serializers.IntegerField(min_value=0, max_value=MAX_PRICE_HALALAS)
    buffer_minutes = serializers.IntegerField(min_value=0, max_value=MINUTES_A_DAY, required=False)
    processing_minutes = serializers.IntegerField(min_value=0, max_value=MINUTES_A_DAY, required=False)


class ServiceOverrideSerializer(serializers.Serializer):
    service = id_field()
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=MINUTES_A_DAY, required=False, allow_null=True
    )
    price_halalas = serializers.IntegerField(
        min_value=0, max_value=MAX_PRICE_HALALAS, required=False, allow_null=True
    )

    def to_representation(self, link: Any) -> dict[str, Any]:
        return {
            "service": link.service_id,
            "duration_minutes": link.duration_minutes,
            "price_halalas": link.price_halalas,
        }

    def validate(self, attrs: dict[str, Any]) -> ServiceOverride:
        if "service" not in attrs:  # a PATCH (partial) skips required fields, nested ones too
            raise serializers.ValidationError(
                {"service": [self.fields["service"].error_messages["required"]]}
            )
        return ServiceOverride(
            service_id=attrs["service"],
            duration_minutes=attrs.get("duration_minutes"),
            price_halalas=attrs.get("price_halalas"),
        )


class StaffManageSerializer(serializers.ModelSerializer):
    rating = serializers.DecimalField(max_digits=3, decimal_places=2, coerce_to_string=False, read_only=True)
    service_ids = serializers.SerializerMethodField()
    overrides = serializers.SerializerMethodField()
    user_linked = serializers.SerializerMethodField(help_text="Whether the invited person accepted.")
    invitation = serializers.ChoiceField(
        InvitationStatus.choices, source="invitation_status", allow_null=True, read_only=True
    )  # null without a phone; setting the phone (again, after a decline) invites

    class Meta:
        model = StaffMember
        fields = (
            "id",
            "name",
            "name_ar",
            "phone",
            "user_linked",
            "invitation",
            "service_ids",
            "overrides",
            "rating",
            "review_count",
        )

    def get_service_ids(self, staff: StaffMember) -> list[int]:
        return [link.service_id for link in staff.staff_services.all()]

    @extend_schema_field(ServiceOverrideSerializer(many=True))
    def get_overrides(self, staff: StaffMember) -> list[dict[str, Any]]:
        links = [
            link
            for link in staff.staff_services.all()
            if link.duration_minutes is not None or link.price_halalas is not None
        ]
        return ServiceOverrideSerializer(links, many=True).data

    def get_user_linked(self, staff: StaffMember) -> bool:
        return staff.user_id is not None


class StaffInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    name_ar = StrictCharField(max_length=200, required=False, allow_blank=True)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True)
    service_ids = serializers.ListField(child=id_field(), required=False, max_length=500)
    overrides = ServiceOverrideSerializer(many=True, required=False, max_length=500)
