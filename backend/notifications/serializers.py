from rest_framework import serializers

from backend.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
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
