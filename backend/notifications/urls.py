from django.urls import path

from backend.notifications.views import DeliveryStatsView, MyNotificationsView

urlpatterns = [
    path("me/notifications/", MyNotificationsView.as_view(), name="my-notifications"),
    path("ops/notifications/", DeliveryStatsView.as_view(), name="ops-notifications"),
]
