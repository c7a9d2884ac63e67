from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.waitlist.models import EntryStatus, WaitlistEntry
from backend.waitlist.selectors import open_offer_of

MAX_ID = 2**63 - 1


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class OfferSerializer(serializers.Serializer):
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    staff_id = serializers.IntegerField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, help_text="The slot is held for you until then.")


class WaitlistEntrySerializer(serializers.ModelSerializer):
    """The contract's waitlist entry; `offer` is null unless `status` is `offered`."""

    # `from` and `to` (the contract's names) are Python keywords: declared below, after the class.
    offer = serializers.SerializerMethodField()

    class Meta:
        model = WaitlistEntry
        fields = ("id", "salon", "service", "staff", "date", "from", "to", "status", "offer", "created_at")

    def to_representation(self, instance: WaitlistEntry) -> dict[str, Any]:
        # DRF renders datetimes in the current zone: make it the salon's, as a booking's.
        with timezone.override(instance.salon.tz):
            return super().to_representation(instance)

    @extend_schema_field(OfferSerializer(allow_null=True))
    def get_offer(self, entry: WaitlistEntry) -> dict | None:
        offer = open_offer_of(entry)
        return None if offer is None else OfferSerializer(offer).data


class WaitlistJoinSerializer(serializers.Serializer):
    salon = _id_field()
    service = _id_field()
    staff = _id_field(required=False, allow_null=True, help_text="Absent or null: anyone.")
    date = serializers.DateField(help_text="A date in the salon's time zone, today up to its horizon.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"to": [_("The end must be after the start.")]})
        return attrs


class WaitlistManageQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="Entries for this date (the salon's time zone).")
    status = serializers.ChoiceField(choices=EntryStatus.choices, required=False)


_TIME_HELP = {
    "from": "Earliest start, HH:MM in the salon's time zone; absent: any.",
    "to": "Latest end, HH:MM in the salon's time zone; absent: any.",
}
for _name, _help in _TIME_HELP.items():
    WaitlistJoinSerializer._declared_fields[_name] = serializers.TimeField(
        required=False, allow_null=True, format="%H:%M", input_formats=["%H:%M"], help_text=_help
    )
    WaitlistEntrySerializer._declared_fields[_name] = serializers.TimeField(
        source=f"{_name}_time", read_only=True, format="%H:%M", allow_null=True
    )
