from rest_framework import serializers

from backend.core.serializers import StrictCharField
from backend.notifications.models import Device, Notification, Platform


class NotificationSerializer(serializers.ModelSerializer):
    channel = serializers.ChoiceField(
        choices=Notification._meta.get_field("channel").choices,
        read_only=True,
        help_text="The channel that delivered the message (while undelivered: the one being tried).",
    )

    class Meta:
        model = Notification
        fields = ("id", "kind", "channel", "status", "body", "created_at", "sent_at")


class DeliveryStatsSerializer(serializers.Serializer):
    window_hours = serializers.IntegerField()
    sent = serializers.IntegerField(help_text="Rows written in the window and delivered.")
    failed = serializers.IntegerField(help_text="Rows written in the window that will not be delivered.")
    retrying = serializers.IntegerField(help_text="Undelivered rows waiting for another attempt.")
    pending = serializers.IntegerField()
    sending = serializers.IntegerField()
    oldest_pending_age_seconds = serializers.FloatField(allow_null=True)


class DeviceRegisterSerializer(serializers.Serializer):
    token = StrictCharField(max_length=512, help_text="The FCM registration token of the app install.")
    platform = serializers.ChoiceField(choices=Platform.choices)


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ("id", "platform", "created_at")
        read_only_fields = fields


class WhatsAppWebhookSerializer(serializers.Serializer):
    """Meta's webhook envelope; only `entry[].changes[].value.statuses[]` is read."""

    object = serializers.CharField(required=False, help_text="whatsapp_business_account")
    entry = serializers.ListField(child=serializers.DictField(), required=False)


class WebhookReceivedSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="How many statuses the payload carried.")
