from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.permissions import IsPlatformAdmin
from backend.core.serializers import error_responses
from backend.notifications.devices import device_delete, device_register
from backend.notifications.models import Notification
from backend.notifications.selectors import notification_delivery_stats, notification_list_for_user
from backend.notifications.serializers import (
    DeliveryStatsSerializer,
    DeviceRegisterSerializer,
    DeviceSerializer,
    NotificationSerializer,
)


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


class MyDevicesView(APIView):
    @extend_schema(
        operation_id="me_devices_register",
        summary="Register this device for push",
        request=DeviceRegisterSerializer,
        responses={
            201: DeviceSerializer,
            200: OpenApiResponse(DeviceSerializer, description="Known token: now the caller's."),
            **error_responses(400, 401),
        },
    )
    def post(self, request: Request) -> Response:
        """Registers the app's FCM token for the caller; a token registered before (by this account or
        another) answers 200 and belongs to the caller from now on."""
        serializer = DeviceRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device, created = device_register(user=request.user, **serializer.validated_data)
        return Response(DeviceSerializer(device).data, status=201 if created else 200)


class MyDeviceView(APIView):
    @extend_schema(
        operation_id="me_devices_delete",
        summary="Stop push to this device",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 404)},
    )
    def delete(self, request: Request, device_id: int) -> Response:
        """Forgets one of the caller's devices (e.g. at logout)."""
        device_delete(user=request.user, device_id=device_id)
        return Response(status=204)
