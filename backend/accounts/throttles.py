"""OTP send limits, kept in the cache's Redis, so every web process shares them (README "Security").

One send is allowed when all of these pass, checked and taken by one Lua script (one round trip; a refusal
writes nothing, so refused requests cannot grow Redis):
- the resend cool-down of the number (OTP_RESEND_COOLDOWN_SECONDS; at most one send in flight per number);
- per number, per client address, per client network (/24 or /64) and per destination prefix, each a
  count in a fixed one-hour window that opens at the first send it counts (worst case twice a limit across
  two back-to-back windows);
- the platform budget (OTP_SEND_BUDGET_HOUR). Until it is used up, it refuses nobody. Past it, ops are
  alerted (BUDGET_ALERT_MARKER) and each destination prefix may only reach its fair share of the budget:
  budget / prefixes that received codes this window. A flood on a few prefixes (SMS pumping targets
  number ranges) stops only those prefixes; logins elsewhere keep working. Sends never exceed twice the
  budget in a window: up to the budget first-come, then at most the budget again in fair shares.

The destination prefix is the E.164 country code and the first PREFIX_NATIONAL_DIGITS digits of the
national number (+966 50 1…: a block of a million numbers of one operator). The client address and
network come from `backend/core/client_ip.py`, which trusts X-Forwarded-For only behind configured proxies.

A send is counted when it is reserved, before the provider is called, so parallel requests cannot slip past
a limit together; if the provider then fails, `release()` gives the send back. Keys are fixed-size hashes
(`backend/core/rate_limit.py`). Redis unreachable: the request fails with 503 (fail closed). Behind Sentinel
with CACHE_WAIT_REPLICAS set, a send is granted only once a replica holds its count, so a failover cannot
forget it (docs/adr/0017).

DRF's throttles and django-ratelimit were considered: neither can un-count a request whose provider call
failed, nor check several limits atomically before counting any."""

import logging
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from backend.core.client_ip import network_of
from backend.core.errors import ApplicationError
from backend.core.rate_limit import NotReplicated, cache_redis, limit_key, run_replicated, script

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
PREFIX_NATIONAL_DIGITS = 3
# Stable marker for the ops alert when the platform's hourly budget is used up: grep/alert on it.
BUDGET_ALERT_MARKER = "OTP_SEND_BUDGET_EXHAUSTED"

# KEYS: 1 cool-down, 2..4 counters (phone, address, network), 5 the prefix hash, 6 the platform counter.
# ARGV: 1 cool-down s, 2 window s, 3..5 the counters' limits, 6 prefix limit, 7 budget, 8 the prefix.
# Returns {0, budget_reached} when taken, else {which, seconds to wait}: 1 cool-down, 2..5 a limit,
# 6 the budget (fair share or hard ceiling).
_RESERVE = """
local window = tonumber(ARGV[2])
local function wait(key)
    local ttl = redis.call('TTL', key)
    if ttl < 1 then return window end
    return ttl
end
if tonumber(ARGV[1]) > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
    return {1, math.max(redis.call('TTL', KEYS[1]), 1)}
end
for i = 2, 4 do
    if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 1]) then
        return {i, wait(KEYS[i])}
    end
end
local sent_to_prefix = tonumber(redis.call('HGET', KEYS[5], ARGV[8]) or '0')
if sent_to_prefix >= tonumber(ARGV[6]) then
    return {5, wait(KEYS[5])}
end
local budget = tonumber(ARGV[7])
local sent = tonumber(redis.call('GET', KEYS[6]) or '0')
local reached = 0
if sent >= budget then
    reached = 1
    local prefixes = redis.call('HLEN', KEYS[5])
    if sent_to_prefix == 0 then prefixes = prefixes + 1 end
    if sent >= 2 * budget or sent_to_prefix * prefixes >= budget then
        return {6, wait(KEYS[6])}
    end
end
if tonumber(ARGV[1]) > 0 then
    redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
end
for i = 2, 4 do
    if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], window) end
end
redis.call('HINCRBY', KEYS[5], ARGV[8], 1)
if redis.call('TTL', KEYS[5]) < 0 then redis.call('EXPIRE', KEYS[5], window) end
if redis.call('INCR', KEYS[6]) == 1 then redis.call('EXPIRE', KEYS[6], window) end
return {0, reached}
"""
# Gives one reservation back: KEYS as above (cool-down deleted), ARGV[1] the prefix. A counter that falls
# to 0 is deleted, so a failed provider leaves nothing behind.
_RELEASE = """
redis.call('DEL', KEYS[1])
for i = 2, 4 do
    if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('DECR', KEYS[i]) <= 0 then
        redis.call('DEL', KEYS[i])
    end
end
if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 1 and redis.call('HINCRBY', KEYS[5], ARGV[1], -1) <= 0 then
    redis.call('HDEL', KEYS[5], ARGV[1])
end
if redis.call('EXISTS', KEYS[6]) == 1 and redis.call('DECR', KEYS[6]) <= 0 then
    redis.call('DEL', KEYS[6])
end
return 0
"""


def destination_prefix(phone_number: str) -> str:
    """`+<country code><first national digits>` of an E.164 number: the unit the prefix limits count."""
    number = phonenumbers.parse(phone_number)
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code}{national[:PREFIX_NATIONAL_DIGITS]}"


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

    keys: list[str]
    prefix: str
    released: bool = field(default=False)

    def release(self) -> None:
        if not self.released:
            script(_RELEASE)(keys=self.keys, args=[self.prefix])
            self.released = True


def _budget_alert() -> None:
    """An ERROR for ops, at most once per window, when the platform's send budget is used up."""
    if cache_redis().set(cache.make_key("otp:budget-alerted"), 1, nx=True, ex=WINDOW_SECONDS):
        logger.error(
            "%s: OTP_SEND_BUDGET_HOUR (%d) reached; each destination prefix now gets its fair share "
            "of the budget until the window ends",
            BUDGET_ALERT_MARKER,
            settings.OTP_SEND_BUDGET_HOUR,
        )


def otp_send_reserve(*, phone_number: str, client_ip: str) -> SendReservation:
    """Takes one send from the cool-down and every limit, or raises 429 otp_throttled (with Retry-After)
    having taken nothing."""
    prefix = destination_prefix(phone_number)
    keys = [
        limit_key("otp:cooldown", phone_number),
        limit_key("otp:phone", phone_number),
        limit_key("otp:ip", client_ip),
        limit_key("otp:network", network_of(client_ip)),
        cache.make_key("rl:otp:prefixes"),
        cache.make_key("rl:otp:all"),
    ]
    args = [
        max(0, settings.OTP_RESEND_COOLDOWN_SECONDS),
        WINDOW_SECONDS,
        settings.OTP_SEND_LIMIT_PER_PHONE_HOUR,
        settings.OTP_SEND_LIMIT_PER_IP_HOUR,
        settings.OTP_SEND_LIMIT_PER_NETWORK_HOUR,
        settings.OTP_SEND_LIMIT_PER_PREFIX_HOUR,
        settings.OTP_SEND_BUDGET_HOUR,
        prefix,
    ]
    # With CACHE_WAIT_REPLICAS, granted only once replicas hold the count: a failover cannot forget it.
    try:
        refused, detail = run_replicated(_RESERVE, keys=keys, args=args)
    except NotReplicated as error:
        if not error.result[0]:  # taken but not granted: give it back, then 503
            SendReservation(keys=keys, prefix=prefix).release()
        raise
    if refused == 6 or (refused == 0 and detail == 1):
        _budget_alert()
    if refused:
        raise _throttled(int(detail))
    return SendReservation(keys=keys, prefix=prefix)
