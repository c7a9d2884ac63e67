"""OTP send limits, kept in Redis (the cache database), so every web process shares them.

Each limit is a counter with a fixed one-hour window that opens at the first send it counts: the first
INCR sets the expiry, and when the key expires the window is over (worst case twice the limit across
two back-to-back windows, which the resend cool-down caps further). Counting and expiry happen in one
Lua script, so parallel requests can neither overshoot a limit nor leave a counter without expiry.

A send is counted when it is reserved, before the provider is called, so parallel requests cannot slip
past a limit together; if the provider then fails, the reservation is released and the send does not
count. The resend cool-down is a key set with NX and an expiry: at most one send per phone in flight.

DRF's throttles and django-ratelimit were considered: neither can un-count a request whose provider
call failed, and DRF's keeps its history with a non-atomic read-modify-write of the cache.
"""

import functools
import logging
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from redis.commands.core import Script

from backend.core.errors import ApplicationError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
# Stable marker for the ops alert when the global hourly budget is used up: grep/alert on it.
BUDGET_ALERT_MARKER = "OTP_SEND_BUDGET_EXHAUSTED"

_COUNT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
_UNCOUNT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('DECR', KEYS[1])
end
return 0
"""


@functools.cache
def _redis() -> redis.Redis:
    """A client of the cache's Redis database; keys carry the cache's prefix (cache.make_key)."""
    return redis.Redis.from_url(
        settings.CACHES["default"]["LOCATION"], socket_connect_timeout=2, socket_timeout=2
    )


@functools.cache
def _script(source: str) -> Script:
    return _redis().register_script(source)


def _throttled(retry_after: int) -> ApplicationError:
    seconds = max(1, retry_after)
    return ApplicationError(
        "otp_throttled",
        _("Too many codes requested. Please wait before asking again."),
        status=429,
        extra={"retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )


@dataclass
class SendReservation:
    """What one OTP send took from the limits; `release()` gives it back (the provider failed)."""

    cooldown_key: str
    counter_keys: list[str] = field(default_factory=list)

    def release(self) -> None:
        for key in self.counter_keys:
            _script(_UNCOUNT)(keys=[key])
        _redis().delete(self.cooldown_key)
        self.counter_keys = []


def _count(*, reservation: SendReservation, key: str, limit: int) -> int | None:
    """Counts one send against `key` in `reservation`; None if within `limit`, else the seconds until
    the window ends (the caller then releases the reservation)."""
    count, ttl = _script(_COUNT)(keys=[key], args=[WINDOW_SECONDS])
    reservation.counter_keys.append(key)
    return ttl if count > limit else None


def _budget_alert(*, retry_after: int) -> None:
    """An ERROR for ops, at most once per window, when the global send budget is used up."""
    if _redis().set(cache.make_key("otp:budget-alerted"), 1, nx=True, ex=WINDOW_SECONDS):
        logger.error(
            "%s: OTP_SEND_BUDGET_HOUR (%d) reached; OTP requests are refused for %d s",
            BUDGET_ALERT_MARKER,
            settings.OTP_SEND_BUDGET_HOUR,
            retry_after,
        )


def otp_send_reserve(*, phone_number: str, client_ip: str) -> SendReservation:
    """Takes one send from the cool-down, the per-phone, per-IP and global limits, or raises 429
    otp_throttled (with Retry-After) having taken nothing."""
    client = _redis()
    cooldown_key = cache.make_key(f"otp:cooldown:{phone_number}")
    cooldown = settings.OTP_RESEND_COOLDOWN_SECONDS
    if cooldown > 0 and not client.set(cooldown_key, 1, nx=True, ex=cooldown):
        raise _throttled(client.ttl(cooldown_key))
    reservation = SendReservation(cooldown_key=cooldown_key)
    limits = [
        (cache.make_key(f"otp:sent:phone:{phone_number}"), settings.OTP_SEND_LIMIT_PER_PHONE_HOUR, False),
        (cache.make_key(f"otp:sent:ip:{client_ip}"), settings.OTP_SEND_LIMIT_PER_IP_HOUR, False),
        (cache.make_key("otp:sent:all"), settings.OTP_SEND_BUDGET_HOUR, True),
    ]
    for key, limit, is_budget in limits:
        retry_after = _count(reservation=reservation, key=key, limit=limit)
        if retry_after is not None:
            reservation.release()
            if is_budget:
                _budget_alert(retry_after=retry_after)
            raise _throttled(retry_after)
    return reservation
