"""Redis URLs, plain or through Sentinel (backend/core/redis_urls.py, docs/adr/0017): what each client of
Redis is given, and a client that really finds the master through real Sentinels and follows a failover."""

import pytest
import redis
from redis.sentinel import SentinelConnectionPool

from backend.core import redis_urls
from tests.support.redis_servers import SentinelGroup
from tests.support.waiting import wait_until

SENTINELS = "sentinel://:s3cret@s1:26379;sentinel://s2:26380;sentinel://s3/2"


def test_a_sentinel_url_lists_every_sentinel_the_database_and_the_password():
    target = redis_urls.parse_sentinel(SENTINELS)
    assert target.sentinels == (("s1", 26379), ("s2", 26380), ("s3", 26379))
    assert target.db == 2 and target.password == "s3cret"
    assert redis_urls.db_of(SENTINELS) == 2 and redis_urls.db_of("redis://h:6379/4") == 4
    assert redis_urls.db_of("redis://h:6379") == 0


@pytest.mark.parametrize("url", ["redis://h:6379/0", "sentinel://s1:26379;redis://h:6379/0", "sentinel://"])
def test_anything_else_is_refused(url):
    with pytest.raises(ValueError, match="sentinel"):
        redis_urls.parse_sentinel(url)


def test_with_db_moves_a_plain_or_a_sentinel_url_to_another_database():
    assert redis_urls.with_db("redis://:pw@h:6379/0", 1) == "redis://:pw@h:6379/1"
    moved = redis_urls.with_db(SENTINELS, 3)
    assert moved == "sentinel://:s3cret@s1:26379;sentinel://s2:26380;sentinel://s3/3"
    assert redis_urls.parse_sentinel(moved).sentinels == redis_urls.parse_sentinel(SENTINELS).sentinels


def test_a_plain_url_passes_through_every_client_unchanged():
    options = {"socket_timeout": 2}
    assert redis_urls.cache_settings("redis://h/1", "m", options) == {
        "LOCATION": "redis://h/1",
        "OPTIONS": options,
    }
    assert redis_urls.broker_transport_options("redis://h/0", "m") == {}
    assert redis_urls.redbeat_settings("redis://h/0", "m", options) == ("redis://h/0", options)
    client = redis_urls.client("redis://h:6390/3", "m", socket_timeout=2)
    assert client.connection_pool.connection_kwargs["port"] == 6390
    assert client.connection_pool.connection_kwargs["db"] == 3


def test_through_sentinel_each_client_gets_the_master_name():
    cache = redis_urls.cache_settings(SENTINELS, "cache", {"socket_timeout": 2})
    assert cache["LOCATION"] == "redis://cache/2"
    assert cache["OPTIONS"]["pool_class"] == "redis.sentinel.SentinelConnectionPool"
    assert cache["OPTIONS"]["service_name"] == "cache" and cache["OPTIONS"]["password"] == "s3cret"
    assert cache["OPTIONS"]["socket_timeout"] == 2
    assert redis_urls.broker_transport_options(SENTINELS, "broker")["master_name"] == "broker"
    url, options = redis_urls.redbeat_settings(SENTINELS, "broker", {"retry_period": 30})
    assert url.startswith("redis-sentinel")
    assert options["service_name"] == "broker" and options["db"] == 2 and options["retry_period"] == 30
    assert options["sentinels"] == [("s1", 26379), ("s2", 26380), ("s3", 26379)]
    assert "password" not in redis_urls.cache_settings("sentinel://s1/0", "c", {})["OPTIONS"]


def test_a_client_finds_the_master_through_sentinels_and_follows_a_failover(tmp_path):
    group = SentinelGroup(tmp_path, name="test-urls")
    try:
        client = redis_urls.client(group.url(db=3), group.name, socket_timeout=2)
        assert isinstance(client.connection_pool, SentinelConnectionPool)
        client.set("k", "before")
        assert group.master.client(db=3).get("k") == b"before"
        group.sentinels[0].client().sentinel_failover(group.name)  # a planned switch-over
        wait_until(lambda: group.master_port() == group.replica.port, timeout=30)

        def written_on_the_new_master() -> bool:
            try:
                client.set("k", "after")
            except redis.ConnectionError:
                return False
            return group.replica.client(db=3).get("k") == b"after"

        wait_until(written_on_the_new_master, timeout=30)
    finally:
        group.stop()
