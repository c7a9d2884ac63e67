import pytest
import redis

from backend.core import selectors
from worker.celery import app

pytestmark = pytest.mark.django_db


def test_health_is_ok_with_a_live_worker(api_client, celery_worker_process):
    response = api_client.get("/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["workers"] >= 1


def test_health_is_503_naming_the_broker_when_redis_is_unreachable(api_client, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = api_client.get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"
    assert response.json()["workers"] == 0


def test_health_is_503_naming_the_database_when_it_is_unreachable(api_client, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = api_client.get("/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_health_needs_no_auth_and_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/health/" in schema.json()["paths"]


class _UnreachableCache:
    """The cache backend while its Redis is down: every call raises."""

    def get(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to cache")

    def set(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to cache")


def test_health_still_answers_with_the_cache_unreachable(api_client, monkeypatch, caplog):
    monkeypatch.setattr(selectors, "cache", _UnreachableCache())
    monkeypatch.setattr(app.control, "ping", lambda timeout: [{"w1@host": {"ok": "pong"}}])
    response = api_client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "workers": 1, "beat_last_seen": None}
    assert "could not cache the worker count" in caplog.text


def test_health_counts_no_workers_when_the_ping_fails(api_client, monkeypatch, caplog):
    def ping(timeout):
        raise redis.exceptions.TimeoutError("Timeout reading from broker")

    monkeypatch.setattr(app.control, "ping", ping)
    response = api_client.get("/health/")
    assert response.status_code == 200  # the API itself can still serve
    assert response.json()["workers"] == 0 and response.json()["broker"] == "ok"
    assert "worker ping failed" in caplog.text


def test_the_worker_count_is_cached_briefly(api_client, monkeypatch, settings):
    pings = []

    def ping(timeout):
        pings.append(timeout)
        return [{"w1@host": {"ok": "pong"}}, {"w2@host": {"ok": "pong"}}]

    settings.HEALTH_WORKER_PING_TIMEOUT = 0.5
    monkeypatch.setattr(app.control, "ping", ping)
    assert [api_client.get("/health/").json()["workers"] for _ in range(3)] == [2, 2, 2]
    assert pings == [0.5]  # load-balancer probes do not each wait for a ping
