"""The API's general rate limit: one throttle, one Redis round trip per request.

Anonymous callers get API_THROTTLE_ANON per client address (`backend/core/client_ip.py`), logged-in users
API_THROTTLE_USER per user. DRF's AnonRateThrottle + UserRateThrottle pair cost two reads and two writes a
request (the user one keyed anonymous callers by address too, and never fired first) and kept a list of
timestamps per caller; this keeps one counter per caller and window, checked and counted by one Lua script:

- a fixed window that opens at the caller's first request (worst case twice the rate across two
  back-to-back windows, as the OTP limits);
- a refused request writes nothing, and a key is a fixed-size hash (`rate_limit.limit_key`), so no caller
  can grow Redis beyond one small key per client address or user and window.

If Redis cannot be reached the request is let through (fail open) and a warning logged at most once a
minute per process: this limit protects capacity, not secrets, and failing closed would turn a cache
outage into an outage of the catalog and of bookings, which need only PostgreSQL. The OTP send limits,
which guard money and phones, stay fail-closed (`backend/accounts/throttles.py`: 503)."""

import logging
import time

import redis
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from backend.core.client_ip import client_ip
from backend.core.rate_limit import limit_key, script

logger = logging.getLogger(__name__)

# KEYS[1] the counter; ARGV[1] the limit, ARGV[2] the window in ms. Returns -1 (counted) or the ms to wait.
WINDOW_SCRIPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl < 0 then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        ttl = tonumber(ARGV[2])
    end
    return ttl
end
if redis.call('INCR', KEYS[1]) == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return -1
"""

_WARN_EVERY_SECONDS = 60.0
_last_warning = [float("-inf")]


def _warn_redis_down(error: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= _WARN_EVERY_SECONDS:
        _last_warning[0] = now
        logger.warning("API throttle skipped, Redis unreachable (fail open): %r", error)


class ApiRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: float | None = None

    def get_ident(self, request: Request) -> str:
        return client_ip(request)

    def allow_request(self, request: Request, view) -> bool:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            scope, ident = "user", str(user.pk)
        else:
            scope, ident = "anon", self.get_ident(request)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if rate is None:
            return True
        limit, seconds = SimpleRateThrottle.parse_rate(self, rate)
        try:
            wait_ms = script(WINDOW_SCRIPT)(
                keys=[limit_key(f"api:{scope}", ident)], args=[limit, seconds * 1000]
            )
        except (redis.ConnectionError, redis.TimeoutError) as error:
            _warn_redis_down(error)
            return True
        if wait_ms < 0:
            return True
        self._wait = wait_ms / 1000
        return False

    def wait(self) -> float | None:
        return self._wait
