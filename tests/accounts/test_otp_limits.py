"""The OTP send limits against the security audit's attacks (issue 16): rotating X-Forwarded-For, rotating
addresses inside one network, floods on one number range, and Redis growth from refused requests."""

import random

import pytest
import redis
from django.core.cache import cache

from backend.accounts.throttles import destination_prefix
from backend.core.rate_limit import cache_redis, limit_key
from tests.accounts.support import OTHER_PHONE, PHONE, error_of, request_code

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"


def random_saudi_mobile(rng: random.Random) -> str:
    return f"+9665{rng.choice('0345689')}{rng.randrange(10**7):07d}"


def rotating_header(rng: random.Random, index: int) -> str:
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{index % 256}"


def limit_keys() -> list[bytes]:
    return list(cache_redis().scan_iter(match=cache.make_key("rl:*")))


def test_the_audit_flood_no_longer_locks_out_real_logins(api_client, authentica, settings):
    """1,000 requests for random Saudi numbers from one client rotating X-Forwarded-For (no proxy
    configured): the per-address limit holds at 20, the budget is untouched, a real login works, and the
    980 refusals left no key in Redis."""
    settings.OTP_SEND_LIMIT_PER_IP_HOUR = 20
    rng = random.Random(16)
    statuses = []
    for index in range(1000):
        response = request_code(
            api_client,
            random_saudi_mobile(rng),
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=rotating_header(rng, index),
        )
        statuses.append(response.status_code)
    assert statuses.count(202) == 20 and statuses.count(429) == 980
    keys = limit_keys()
    # 20 sends: 20 cool-downs and 20 phone counters, one address, one network, the prefixes, the total.
    assert len(keys) <= 44
    assert max(len(key) for key in keys) < 80
    assert request_code(api_client, PHONE, REMOTE_ADDR="203.0.113.50").status_code == 202
    assert len(authentica.messages()) == 21


def test_an_8_kb_forwarded_header_never_becomes_a_key(api_client, authentica, settings):
    settings.API_NUM_PROXIES = 1
    huge = "9" * 8192
    assert request_code(api_client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=huge).status_code == 202
    keys = limit_keys()
    assert keys and max(len(key) for key in keys) < 80
    assert sum(len(cache_redis().dump(key)) for key in keys) < 2048


def test_rotating_addresses_inside_one_ipv4_network_hits_the_network_limit(api_client, authentica, settings):
    settings.OTP_SEND_LIMIT_PER_NETWORK_HOUR = 3
    for host in range(1, 4):
        assert (
            request_code(api_client, f"+96650123400{host}", REMOTE_ADDR=f"203.0.113.{host}").status_code
            == 202
        )
    response = request_code(api_client, "+966501234009", REMOTE_ADDR="203.0.113.99")
    assert 3590 <= error_of(response, 429, "otp_throttled")["retry_after"] <= 3600
    assert request_code(api_client, "+966501234009", REMOTE_ADDR="203.0.114.1").status_code == 202


def test_rotating_addresses_inside_one_ipv6_64_hits_the_network_limit(api_client, authentica, settings):
    settings.OTP_SEND_LIMIT_PER_NETWORK_HOUR = 2
    for address, phone in [("2001:db8:1:2::1", PHONE), ("2001:db8:1:2:ffff:1:2:3", OTHER_PHONE)]:
        assert request_code(api_client, phone, REMOTE_ADDR=address).status_code == 202
    error_of(request_code(api_client, "+966503333333", REMOTE_ADDR="2001:db8:1:2::9"), 429, "otp_throttled")
    assert request_code(api_client, "+966503333333", REMOTE_ADDR="2001:db8:1:3::9").status_code == 202


def test_a_flood_on_one_number_range_is_capped_per_prefix(api_client, authentica, settings):
    """Many networks (a botnet) pumping one range of numbers: the prefix limit caps the range; other
    ranges are untouched."""
    settings.OTP_SEND_LIMIT_PER_PREFIX_HOUR = 5
    statuses = [
        request_code(api_client, f"+96650199{index:04d}", REMOTE_ADDR=f"10.{index}.0.1").status_code
        for index in range(8)
    ]
    assert statuses == [202] * 5 + [429] * 3
    assert request_code(api_client, "+966551234567", REMOTE_ADDR="10.200.0.1").status_code == 202


def test_a_botnet_exhausting_the_budget_from_one_prefix_locks_out_only_that_prefix(
    api_client, authentica, settings
):
    settings.OTP_SEND_BUDGET_HOUR = 10
    rng = random.Random(7)
    statuses = [
        request_code(
            api_client, f"+966501{rng.randrange(10**6):06d}", REMOTE_ADDR=f"10.{index}.0.1"
        ).status_code
        for index in range(14)
    ]
    assert statuses.count(202) == 10  # the budget, all to +966501
    assert request_code(api_client, "+966551234567", REMOTE_ADDR="203.0.113.50").status_code == 202


def test_destination_prefix_is_country_code_and_three_national_digits():
    assert destination_prefix("+966501234567") == "+966501"
    assert destination_prefix("+971501234567") == "+971501"


def test_a_refusal_by_any_limit_writes_nothing(api_client, authentica, settings):
    settings.OTP_SEND_LIMIT_PER_PHONE_HOUR = 1
    assert request_code(api_client, REMOTE_ADDR="10.0.0.1").status_code == 202
    client = cache_redis()
    before = {key: client.dump(key) for key in limit_keys()}
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    for address in ("10.0.0.2", "10.1.0.1", "2001:db8::1"):
        error_of(request_code(api_client, REMOTE_ADDR=address), 429, "otp_throttled")
    assert {key: client.dump(key) for key in limit_keys()} == before
    assert not client.exists(limit_key("otp:ip", "10.1.0.1"))


def test_a_failed_send_gives_everything_back(api_client, authentica):
    authentica.fail_next(1, status=500)
    error_of(request_code(api_client), 502, "otp_delivery_failed")
    assert limit_keys() == []


def test_redis_down_refuses_code_requests_with_503(api_client, authentica, monkeypatch):
    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr("redis.commands.core.Script.__call__", down)
    response = request_code(api_client)
    assert error_of(response, 503, "service_unavailable") and response["Retry-After"] == "5"
    assert authentica.messages() == []
