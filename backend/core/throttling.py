"""The API's general rate limit: one throttle, one Redis round trip per request.

Anonymous callers get API_THROTTLE_ANON per client address (`backend/core/client_ip.py`), logged-in users
API_THROTTLE_USER per user. DRF's AnonRateThrottle + UserRateThrottle pair cost two reads and two writes a
request (the user one keyed anonymous callers by address too, and never fired first) and kept a list of
timestamps per caller; this keeps one counter per caller and window, checked and counted by one Lua script:

- a fixed window that opens at the caller's first request (worst case twice the rate across two
  back-to-back windows, as the OTP limits);
- a refused request writes nothing, and a key is a fixed-size hash (`rate_limit.limit_key`), so no caller
  can grow Redis beyond one small key per client address or user and window.

If Redis cannot be reached the request fails with 503 `service_unavailable` (fail closed, as the OTP send
limits), never passes unlimited: the cache's Redis runs behind Sentinel (docs/adr/0017), and redis-py's
retries carry most requests across a failover to the new master; the rest of a failover is 503s, not an
open door."""

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from backend.core.client_ip import client_ip
from backend.core.rate_limit import limit_key, script

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
        # A Redis error propagates: the API's exception handler answers 503 (fail closed).
        wait_ms = script(WINDOW_SCRIPT)(keys=[limit_key(f"api:{scope}", ident)], args=[limit, seconds * 1000])
        if wait_ms < 0:
            return True
        self._wait = wait_ms / 1000
        return False

    def wait(self) -> float | None:
        return self._wait
