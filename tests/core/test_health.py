import pytest

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
