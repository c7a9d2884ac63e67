from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from backend.core.models import IdempotencyRecord

HEARTBEAT_CACHE_KEY = "ops:beat-heartbeat"


def heartbeat_record() -> None:
    """Called by the beat-scheduled heartbeat task: proves beat schedules and a worker consumes."""
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Retention (beat, daily): Idempotency-Key answers older than IDEMPOTENCY_TTL_HOURS are never replayed
    again (backend/core/idempotency.py), so they go. Returns how many rows were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
