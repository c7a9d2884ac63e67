from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "ops:beat-heartbeat"


def heartbeat_record() -> None:
    """Called by the beat-scheduled heartbeat task: proves beat schedules and a worker consumes."""
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)
