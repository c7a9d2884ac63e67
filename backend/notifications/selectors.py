from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from backend.notifications.models import Notification, Status


def notification_list_for_user(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class DeliveryStats:
    sent: int
    failed: int
    retrying: int
    pending: int
    sending: int
    oldest_pending_age_seconds: float | None
    window_hours: int


def notification_delivery_stats(*, window_hours: int = 24) -> DeliveryStats:
    """What ops watch: outcomes of the rows written in the window, and how old the oldest undelivered
    row is (growing age = deliveries are stuck). One query."""
    now = timezone.now()
    since = now - timedelta(hours=window_hours)
    undelivered = Q(status__in=[Status.PENDING, Status.SENDING])
    figures = Notification.objects.filter(Q(created_at__gte=since) | undelivered).aggregate(
        sent=Count("pk", filter=Q(status=Status.SENT, created_at__gte=since)),
        failed=Count("pk", filter=Q(status=Status.FAILED, created_at__gte=since)),
        retrying=Count("pk", filter=Q(status=Status.PENDING, attempts__gt=0)),
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        sending=Count("pk", filter=Q(status=Status.SENDING)),
        oldest=Min("created_at", filter=undelivered),
    )
    oldest = figures.pop("oldest")
    return DeliveryStats(
        **figures,
        oldest_pending_age_seconds=(now - oldest).total_seconds() if oldest else None,
        window_hours=window_hours,
    )
