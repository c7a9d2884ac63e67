"""What tests/support/short_beat.py schedules and notes, read by the tests that run it."""

import json

import redis

SENT_KEY = "probe:sent"
INTERVAL_SECONDS = 1.0
ENTRIES = ("probe-a", "probe-b")


def sent(client: redis.Redis) -> list[dict]:
    """Every message the beats published so far: {"entry", "at" (epoch seconds), "pid"}."""
    return [json.loads(item) for item in client.lrange(SENT_KEY, 0, -1)]
