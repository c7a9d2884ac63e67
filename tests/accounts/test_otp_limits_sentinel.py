"""The OTP send limits through a Redis failover (docs/adr/0017): the cache behind three real Sentinels,
its master killed (SIGKILL) while codes are requested. Every answer is a send or a refusal (202, 429) or
503, and no number gets more codes than its limit, before, during or after the failover."""

import time
from collections import Counter

import pytest

from backend.core import rate_limit, redis_urls
from tests.accounts.support import OTHER_PHONE, PHONE, request_code
from tests.support.api import error_code
from tests.support.redis_servers import SentinelGroup

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture
def sentinel_cache(settings, tmp_path):
    group = SentinelGroup(tmp_path, name="test-cache")
    settings.CACHE_URL = group.url(db=1)
    settings.CACHE_SENTINEL_MASTER = group.name
    settings.CACHE_WAIT_REPLICAS = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            **redis_urls.cache_settings(settings.CACHE_URL, group.name, settings.CACHE_REDIS_OPTIONS),
            "KEY_PREFIX": "salon-test",
        }
    }
    rate_limit.cache_redis.cache_clear()
    rate_limit.script.cache_clear()
    yield group
    rate_limit.cache_redis.cache_clear()
    rate_limit.script.cache_clear()
    group.stop()


def test_a_failover_during_code_requests_never_lets_a_number_past_its_limit(
    api_client, authentica, settings, sentinel_cache
):
    settings.OTP_SEND_LIMIT_PER_PHONE_HOUR = LIMIT
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_SEND_LIMIT_PER_IP_HOUR = settings.OTP_SEND_LIMIT_PER_NETWORK_HOUR = 1000
    group = sentinel_cache
    first_master = group.master
    answers: list[tuple[str, int]] = []

    def ask(index: int) -> int:
        phone = (PHONE, OTHER_PHONE)[index % 2]
        status = request_code(api_client, phone, REMOTE_ADDR=f"203.0.113.{index % 250 + 1}").status_code
        answers.append((phone, status))
        return status

    for index in range(4):  # two sends each, counted on the first master and its replica
        assert ask(index) == 202
    first_master.kill()

    index = 4
    rejoined = False
    give_up = time.monotonic() + 120  # a safety net against a hung test, not an assertion on speed
    while not (rejoined and {status for _, status in answers[-2:]} == {429}):
        ask(index)
        index += 1
        if not rejoined and group.master_port() != first_master.port:
            # Failed over to the replica: bring the old master back; the Sentinels make it a replica of
            # the new one, so a count can be held by a replica again (CACHE_WAIT_REPLICAS=1).
            first_master.start()
            rejoined = True
        assert time.monotonic() < give_up, (Counter(status for _, status in answers), group.master_port())

    statuses = Counter(status for _, status in answers)
    assert set(statuses) <= {202, 429, 503}, statuses
    sent = Counter(phone for phone, status in answers if status == 202)
    assert max(sent.values()) <= LIMIT, sent
    # It kept working: codes were sent after the failover, and the counts taken before it held.
    assert sum(1 for _, status in answers[4:] if status == 202) > 0
    delivered = Counter(message["to"] for message in authentica.messages())
    assert max(delivered.values()) <= LIMIT, delivered
    assert group.master_port() == group.replica.port
    print(f"OTP answers through the failover: {dict(statuses)}; codes sent per number: {dict(sent)}")


def test_a_send_no_replica_acknowledged_is_given_back_and_answered_503(api_client, authentica, settings):
    """The test Redis has no replica: with CACHE_WAIT_REPLICAS=1 every send is refused with 503, and each
    is given back, so the number's limit is untouched once replicas answer again."""
    settings.OTP_SEND_LIMIT_PER_PHONE_HOUR = 1
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.CACHE_WAIT_REPLICAS = 1
    for _ in range(3):
        response = request_code(api_client, PHONE)
        assert response.status_code == 503 and error_code(response) == "service_unavailable"
    assert authentica.messages() == []
    settings.CACHE_WAIT_REPLICAS = 0
    assert request_code(api_client, PHONE).status_code == 202
    assert request_code(api_client, PHONE).status_code == 429
