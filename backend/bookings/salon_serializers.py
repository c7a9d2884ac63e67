"""Shapes of the bookings endpoints under a salon (salon_views.py): the public availability and the
manager's booking list. Bookings builds on salons: the ids and booking shapes are reused from both."""

from rest_framework import serializers

from backend.bookings.availability import MAX_DAYS
from backend.bookings.serializers import BookingSerializer
from backend.bookings.visits import MAX_ITEMS
from backend.salons.serializers import id_field


class AvailabilityQuerySerializer(serializers.Serializer):
    service = serializers.ListField(
        child=id_field(),
        min_length=1,
        max_length=MAX_ITEMS,
        help_text="The service; repeated (`service=A&service=B`), a visit's services in their order: the "
        "starts at which the whole visit fits.",
    )
    date = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="The first local date, YYYY-MM-DD.")
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=1)
    staff = id_field(required=False, help_text="Absent: any staff member.")


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="In the salon's time zone.")
    end = serializers.DateTimeField()
    staff_id = serializers.IntegerField()


class SlotItemSerializer(serializers.Serializer):
    service = serializers.IntegerField()
    staff_id = serializers.IntegerField()
    start = serializers.DateTimeField(help_text="In the salon's time zone.")
    end = serializers.DateTimeField()


class VisitSlotSerializer(SlotSerializer):
    items = SlotItemSerializer(
        many=True, required=False, help_text="Only when several services were asked for: each item's times."
    )


class AvailabilitySerializer(serializers.Serializer):
    """The response's shape, for the schema; `availability_body.availability_json` writes it."""

    timezone = serializers.CharField()
    slots = VisitSlotSerializer(many=True)


class BookingCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField(source="phone_number")


class SalonBookingSerializer(BookingSerializer):
    """The contract's Booking, plus the customer, whom the salon needs to know."""

    customer = BookingCustomerSerializer()

    class Meta(BookingSerializer.Meta):
        fields = (*BookingSerializer.Meta.fields, "customer")
