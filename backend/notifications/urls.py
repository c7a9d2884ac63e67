from django.urls import path

from backend.notifications.views import DeliveryStatsView, MyDevicesView, MyDeviceView, MyNotificationsView
from backend.notifications.webhook_views import WhatsAppWebhookView

urlpatterns = [
    path("me/notifications/", MyNotificationsView.as_view(), name="my-notifications"),
    path("me/devices/", MyDevicesView.as_view(), name="my-devices"),
    path("me/devices/<int:device_id>/", MyDeviceView.as_view(), name="my-device"),
    path("ops/notifications/", DeliveryStatsView.as_view(), name="ops-notifications"),
    path("notifications/webhooks/whatsapp/", WhatsAppWebhookView.as_view(), name="whatsapp-webhook"),
]
