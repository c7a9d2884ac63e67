import logging
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from backend.core import redis_urls
from backend.core.services import HEARTBEAT_CACHE_KEY

logger = logging.getLogger(__name__)

WORKER_COUNT_CACHE_KEY = "ops:worker-count"
OK, DOWN = "ok", "down"


@dataclass(frozen=True)
class HealthReport:
    database: str
    broker: str
    workers: int
    beat_last_seen: str | None

    @property
    def healthy(self) -> bool:
        return self.database == OK and self.broker == OK


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("health: database unreachable", exc_info=True)
        return DOWN
    return OK


def _broker_status(broker_url: str) -> str:
    try:
        client = redis_urls.client(
            broker_url, settings.REDIS_SENTINEL_MASTER, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError:
        logger.warning("health: broker unreachable", exc_info=True)
        return DOWN
    return OK


def _live_worker_count() -> int:
    """Workers answering a broadcast ping. The ping waits its whole timeout, so the answer is cached
    briefly: load-balancer probes must not each hold a web worker for a second."""
    from worker.celery import app

    try:
        cached = cache.get(WORKER_COUNT_CACHE_KEY)
    except Exception:
        cached = None
    if cached is not None:
        return cached
    try:
        count = len(app.control.ping(timeout=settings.HEALTH_WORKER_PING_TIMEOUT) or [])
    except Exception:
        logger.warning("health: worker ping failed", exc_info=True)
        return 0
    try:
        cache.set(WORKER_COUNT_CACHE_KEY, count, timeout=settings.HEALTH_WORKER_CACHE_SECONDS)
    except Exception:
        logger.warning("health: could not cache the worker count", exc_info=True)
    return count


def health_report() -> HealthReport:
    from worker.celery import app

    database = _database_status()
    broker = _broker_status(app.conf.broker_url)
    workers = _live_worker_count() if broker == OK else 0
    try:
        beat_last_seen = cache.get(HEARTBEAT_CACHE_KEY) if broker == OK else None
    except Exception:
        beat_last_seen = None
    return HealthReport(database=database, broker=broker, workers=workers, beat_last_seen=beat_last_seen)
