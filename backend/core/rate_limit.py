"""What every rate limit shares: the cache's Redis, fixed-size keys, and Lua scripts run in one round trip.

Keys are `<cache prefix>:rl:<kind>:<32 hex>`, the hex a keyed BLAKE2b of the identifier (a client
address, a user id, a phone number...): whatever a caller sends, a key is the same few dozen bytes, and a
phone number cannot be read back from Redis (the hash is keyed by a value derived from SECRET_KEY)."""

import functools
import hashlib

import redis
from django.conf import settings
from django.core.cache import cache
from redis.commands.core import Script

from backend.core import redis_urls

REPLICA_WAIT_TIMEOUT_MS = 1000


@functools.cache
def cache_redis() -> redis.Redis:
    """A client of the cache's Redis database (CACHE_URL; its master through Sentinel), shared by the
    process."""
    return redis_urls.client(
        settings.CACHE_URL, settings.CACHE_SENTINEL_MASTER, **settings.CACHE_REDIS_OPTIONS
    )


class NotReplicated(redis.ConnectionError):
    """Fewer replicas than CACHE_WAIT_REPLICAS hold a script's writes; `result` is what it answered. A
    ConnectionError, so whoever does not handle it answers 503."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


def run_replicated(source: str, *, keys: list[str], args: list) -> object:
    """Runs a registered script and, with CACHE_WAIT_REPLICAS set, waits on the same connection (one
    pipeline) until that many replicas of the cache's Redis hold its writes (Redis WAIT); fewer raise
    NotReplicated: a count only the master held could be forgotten by a failover to a replica, and the
    limit it counts would open. 0 (the default) runs the script alone."""
    wanted = settings.CACHE_WAIT_REPLICAS
    if not wanted:
        return script(source)(keys=keys, args=args)
    with cache_redis().pipeline(transaction=False) as pipe:
        script(source)(keys=keys, args=args, client=pipe)
        pipe.wait(wanted, REPLICA_WAIT_TIMEOUT_MS)
        result, acknowledged = pipe.execute()
    if acknowledged < wanted:
        raise NotReplicated(f"{acknowledged} of {wanted} cache replicas acknowledged a limit write", result)
    return result


@functools.cache
def script(source: str) -> Script:
    """A registered Lua script: EVALSHA, loaded once on the first NOSCRIPT answer."""
    return cache_redis().register_script(source)


@functools.cache
def _hash_key() -> bytes:
    return hashlib.sha256(b"backend.core.rate_limit:" + settings.SECRET_KEY.encode()).digest()


def limit_key(kind: str, identifier: str) -> str:
    """The fixed-size Redis key of one limit's counter for `identifier`."""
    digest = hashlib.blake2b(identifier.encode(), digest_size=16, key=_hash_key()).hexdigest()
    return cache.make_key(f"rl:{kind}:{digest}")
