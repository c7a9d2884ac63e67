"""The API's one throttle (backend/core/throttling.py): anonymous callers per client address, users per
user, one Redis round trip a request, nothing written by a refusal, fail closed (503) without Redis."""

import pytest
import redis
from django.core.cache import cache
from rest_framework.views import APIView

from backend.core.rate_limit import cache_redis
from backend.core.throttling import ApiRateThrottle
from tests.support.api import error_code
from tests.support.factories import client_for, make_user

pytestmark = pytest.mark.django_db

CATALOG = "/api/v1/salons/"


@pytest.fixture(autouse=True)
def throttled(monkeypatch, settings):
    """The production throttle on every API view (test settings turn it off), at the default rates."""
    monkeypatch.setattr(APIView, "throttle_classes", [ApiRateThrottle])
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
    }
    settings.API_NUM_PROXIES = None
    settings.API_TRUSTED_PROXIES = []


def rates(settings, anon: str, user: str = "600/min") -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
    }


def throttle_keys() -> list[bytes]:
    return list(cache_redis().scan_iter(match=cache.make_key("rl:api:*")))


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert response["Retry-After"] == str(error["retry_after"])
    return error["retry_after"]


def test_one_anonymous_client_rotating_x_forwarded_for_is_refused_after_the_anonymous_rate(api_client):
    """The audit's 125 catalogue reads, each with a new forwarded address, no proxy configured."""
    statuses = [
        api_client.get(CATALOG, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.0.{i // 256}.{i % 256}")
        for i in range(125)
    ]
    assert [response.status_code for response in statuses].count(200) == 120
    assert 55 <= assert_throttled(statuses[-1]) <= 60
    assert len(throttle_keys()) == 1
    assert api_client.get(CATALOG, REMOTE_ADDR="198.51.100.8").status_code == 200  # another client


def test_behind_one_proxy_the_right_hop_is_the_client(api_client, settings):
    rates(settings, "2/min")
    settings.API_NUM_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(2):
        assert (
            api_client.get(CATALOG, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7", **proxy).status_code == 200
        )
    assert_throttled(api_client.get(CATALOG, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7", **proxy))
    assert api_client.get(CATALOG, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 200


def test_behind_trusted_networks_the_first_untrusted_hop_is_the_client(api_client, settings):
    rates(settings, "1/min")
    settings.API_TRUSTED_PROXIES = ["10.0.0.0/8"]
    chain = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7, 10.9.9.9"}
    assert api_client.get(CATALOG, **chain).status_code == 200
    assert_throttled(api_client.get(CATALOG, **chain))
    other = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.8, 10.9.9.9"}
    assert api_client.get(CATALOG, **other).status_code == 200


def test_users_are_limited_per_user_at_the_user_rate(settings):
    rates(settings, "1/min", "2/min")
    first, second = client_for(make_user()), client_for(make_user())
    for _ in range(2):
        assert first.get(CATALOG, REMOTE_ADDR="203.0.113.7").status_code == 200
    assert_throttled(first.get(CATALOG, REMOTE_ADDR="203.0.113.99"))  # a new address does not help
    assert second.get(CATALOG, REMOTE_ADDR="203.0.113.7").status_code == 200  # same address, other user


def test_refusals_write_nothing_and_keys_are_fixed_size(api_client, settings):
    rates(settings, "1/min")
    assert api_client.get(CATALOG, REMOTE_ADDR="203.0.113.7").status_code == 200
    client = cache_redis()
    [key] = throttle_keys()
    ttl_before = client.pttl(key)
    for _ in range(5):
        assert_throttled(api_client.get(CATALOG, REMOTE_ADDR="203.0.113.7"))
    assert throttle_keys() == [key] and client.get(key) == b"1" and client.pttl(key) <= ttl_before
    assert len(key) < 80


def test_a_zero_rate_refuses_without_writing(api_client, settings):
    rates(settings, "0/min")
    assert 55 <= assert_throttled(api_client.get(CATALOG)) <= 60
    assert throttle_keys() == []


def test_a_scope_without_a_rate_is_not_limited(api_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "1/min"}}
    for _ in range(3):
        assert api_client.get(CATALOG).status_code == 200
    assert throttle_keys() == []


def test_a_counter_left_without_expiry_gets_one(api_client, settings):
    rates(settings, "1/min")
    assert api_client.get(CATALOG, REMOTE_ADDR="203.0.113.7").status_code == 200
    [key] = throttle_keys()
    cache_redis().persist(key)
    assert 55 <= assert_throttled(api_client.get(CATALOG, REMOTE_ADDR="203.0.113.7")) <= 60
    assert cache_redis().ttl(key) > 0


class RoundTrips:
    """Counts what this process sends to Redis: each send_packed_command is one round trip."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = redis.connection.AbstractConnection.send_packed_command

        def counting(connection, command, check_health=True):
            self.count += 1
            return original(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)


def test_one_redis_round_trip_per_request(api_client, settings, monkeypatch):
    user_client = client_for(make_user())
    assert api_client.get(CATALOG).status_code == 200  # loads the script once
    round_trips = RoundTrips(monkeypatch)
    for client in (api_client, user_client, api_client):
        before = round_trips.count
        assert client.get(CATALOG).status_code == 200
        assert round_trips.count - before == 1
    rates(settings, "1/min")
    cache.clear()
    before = round_trips.count
    api_client.get(CATALOG)
    assert_throttled(api_client.get(CATALOG))
    assert round_trips.count - before == 2  # a refusal too: one round trip


def test_redis_down_fails_closed_with_503(api_client, monkeypatch):
    """Never open (docs/adr/0017): without Redis no request passes unlimited; the client may retry."""

    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr("redis.commands.core.Script.__call__", down)
    response = api_client.get(CATALOG)
    assert response.status_code == 503 and error_code(response) == "service_unavailable"
