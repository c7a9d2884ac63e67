from dataclasses import asdict

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.permissions import IsPlatformAdmin
from backend.core.serializers import error_responses
from backend.notifications.models import Notification
from backend.notifications.selectors import notification_delivery_stats, notification_list_for_user
from backend.notifications.serializers import DeliveryStatsSerializer, NotificationSerializer


@extend_schema_view(
    get=extend_schema(responses={200: NotificationSerializer(many=True), **error_responses(400, 401, 404)})
)
class MyNotificationsView(ListAPIView):
    """Messages sent (or being sent) to the caller, newest first, with their delivery status."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return notification_list_for_user(user=self.request.user)


class DeliveryStatsView(APIView):
    """Notification delivery figures for ops (platform admins)."""

    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses={200: DeliveryStatsSerializer, **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(DeliveryStatsSerializer(asdict(notification_delivery_stats())).data)
