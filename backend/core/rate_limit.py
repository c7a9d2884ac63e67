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


@functools.cache
def cache_redis() -> redis.Redis:
    """A client of the cache's Redis database (CACHES["default"], CACHE_URL), shared by the process."""
    return redis.Redis.from_url(
        settings.CACHES["default"]["LOCATION"], socket_connect_timeout=2, socket_timeout=2
    )


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
