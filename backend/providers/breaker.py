"""A small circuit breaker per provider, shared by every web process through the cache's Redis.

PROVIDER_BREAKER_FAILURES failures of a provider within PROVIDER_BREAKER_WINDOW_SECONDS open its breaker
for PROVIDER_BREAKER_COOLDOWN_SECONDS: callers with another provider skip it meanwhile, instead of making
each user wait for a timeout first. When the cool-down ends the provider is tried again; it opens again
after as many failures. The counts are a fixed window (the first failure starts it), kept with `add` and
`incr`, which Redis does atomically, so parallel requests count every failure."""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _key(name: str, part: str) -> str:
    return f"provider-breaker:{name}:{part}"


def breaker_open(name: str) -> bool:
    """True while `name` is being skipped after repeated failures."""
    return cache.get(_key(name, "open")) is not None


def breaker_failure(name: str) -> None:
    """Counts one failure of `name`; the one that reaches the threshold opens the breaker."""
    key = _key(name, "failures")
    cache.add(key, 0, timeout=settings.PROVIDER_BREAKER_WINDOW_SECONDS)
    try:
        failures = cache.incr(key)
    except ValueError:  # the window expired between add and incr: this failure starts a new one
        cache.set(key, 1, timeout=settings.PROVIDER_BREAKER_WINDOW_SECONDS)
        failures = 1
    if failures >= settings.PROVIDER_BREAKER_FAILURES:
        cache.set(_key(name, "open"), 1, timeout=settings.PROVIDER_BREAKER_COOLDOWN_SECONDS)
        cache.delete(key)
        logger.warning(
            "provider %s failed %s times: skipped for %s s",
            name,
            failures,
            settings.PROVIDER_BREAKER_COOLDOWN_SECONDS,
        )


def breaker_reset(name: str) -> None:
    """Closes the breaker and forgets the failures (tests, ops)."""
    cache.delete_many([_key(name, "open"), _key(name, "failures")])
