"""Redis URLs, plain or through Sentinel, turned into what each client of Redis needs (docs/adr/0017).

A plain URL is `redis://[:password@]host:6379/db`. A Sentinel URL is Kombu's form: every Sentinel, each
`sentinel://[:password@]host:26379`, joined by `;`, the database number after the last one
(`sentinel://s1:26379;sentinel://s2:26379;sentinel://s3:26379/0`); the master's name comes with it
(`REDIS_SENTINEL_MASTER`, `CACHE_SENTINEL_MASTER`) and the password is the Redis servers' own. Every
client asks the Sentinels for the current master and, when the master fails over, drops its connections
and asks again: Kombu for the broker, celery-redbeat for beat, redis-py's `SentinelConnectionPool` for
Django's cache and for the raw clients of the rate limits, health and metrics.

No Django here: config/settings.py uses it before Django is set up."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "sentinel"
# How long one question to a Sentinel may take: a dead Sentinel must not hold up finding the master.
SENTINEL_SOCKET_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    db: int
    password: str | None


def is_sentinel(url: str) -> bool:
    return url.startswith(f"{SENTINEL_SCHEME}://")


def parse_sentinel(url: str) -> SentinelTarget:
    """The Sentinels, database and password of a `sentinel://` URL; ValueError for anything else."""
    if not is_sentinel(url):
        raise ValueError(f"not a sentinel:// URL: {url.split('@')[-1]}")
    sentinels, db, password = [], 0, None
    for part in url.split(";"):
        parts = urlsplit(part.strip())
        if parts.scheme != SENTINEL_SCHEME or not parts.hostname:
            raise ValueError("each Sentinel must be written sentinel://host:port")
        sentinels.append((parts.hostname, parts.port or 26379))
        password = unquote(parts.password) if parts.password else password
        db = int(parts.path.strip("/") or db)
    return SentinelTarget(tuple(sentinels), db, password)


def db_of(url: str) -> int:
    if is_sentinel(url):
        return parse_sentinel(url).db
    return int(urlsplit(url).path.strip("/") or 0)


def with_db(url: str, db: int) -> str:
    """The same server (or Sentinels) and master, another database number."""
    head, _, last = url.rpartition(";")
    parts = urlsplit(last)
    moved = urlunsplit(parts._replace(path=f"/{db}"))
    return f"{head};{moved}" if head else moved


def sentinel_manager(target: SentinelTarget) -> Sentinel:
    return Sentinel(
        list(target.sentinels),
        sentinel_kwargs={
            "socket_timeout": SENTINEL_SOCKET_TIMEOUT_SECONDS,
            "socket_connect_timeout": SENTINEL_SOCKET_TIMEOUT_SECONDS,
        },
    )


def client(url: str, master: str, **options) -> redis.Redis:
    """A redis-py client of the URL's server, or of the current master behind its Sentinels."""
    if not is_sentinel(url):
        return redis.Redis.from_url(url, **options)
    target = parse_sentinel(url)
    return sentinel_manager(target).master_for(master, db=target.db, password=target.password, **options)


def cache_settings(url: str, master: str, options: dict) -> dict:
    """`LOCATION` and `OPTIONS` of Django's own RedisCache for the URL. Through Sentinel, its pool class is
    redis-py's `SentinelConnectionPool`, which asks the Sentinels for the master on every new connection
    (the location's host is then unused: only its database counts)."""
    if not is_sentinel(url):
        return {"LOCATION": url, "OPTIONS": options}
    target = parse_sentinel(url)
    return {
        "LOCATION": f"redis://{master}/{target.db}",
        "OPTIONS": {
            **options,
            "pool_class": "redis.sentinel.SentinelConnectionPool",
            "service_name": master,
            "sentinel_manager": sentinel_manager(target),
            **({"password": target.password} if target.password else {}),
        },
    }


def broker_transport_options(url: str, master: str) -> dict:
    """What Kombu's Redis transport needs beyond the URL: the master's name, when through Sentinel."""
    if not is_sentinel(url):
        return {}
    return {
        "master_name": master,
        "sentinel_kwargs": {
            "socket_timeout": SENTINEL_SOCKET_TIMEOUT_SECONDS,
            "socket_connect_timeout": SENTINEL_SOCKET_TIMEOUT_SECONDS,
        },
    }


def redbeat_settings(url: str, master: str, options: dict) -> tuple[str, dict]:
    """celery-redbeat's `redbeat_redis_url` and `redbeat_redis_options` for the URL: through Sentinel, its
    own `redis-sentinel://` scheme with the Sentinels and master in the options."""
    if not is_sentinel(url):
        return url, options
    target = parse_sentinel(url)
    sentinel = {
        "sentinels": list(target.sentinels),
        "service_name": master,
        "db": target.db,
        "password": target.password,
        "sentinel_kwargs": {"socket_timeout": SENTINEL_SOCKET_TIMEOUT_SECONDS},
    }
    return "redis-sentinel://", {**options, **sentinel}
