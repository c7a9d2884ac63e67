"""The Celery app, proven with a real worker process on the real Redis (no eager mode anywhere)."""

import pytest
from django_celery_results.models import TaskResult

from backend.core.request_id import bind_request_id, unbind_request_id
from worker.celery import app
from worker.tasks.core import echo, heartbeat


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_end_to_end(celery_worker_process):
    result = echo.delay("مرحبا")
    assert result.get(timeout=30) == {"value": "مرحبا", "request_id": None}
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.worker == celery_worker_process.hostname


@pytest.mark.django_db(transaction=True)
def test_heartbeat_is_visible_to_health(api_client, celery_worker_process):
    heartbeat.apply_async().get(timeout=30)
    assert api_client.get("/health/").json()["beat_last_seen"] is not None


def test_routing_sends_each_kind_to_its_queue():
    router = app.amqp.router
    assert router.route({}, "notifications.deliver")["queue"].name == "notifications"
    assert router.route({}, "payments.refund")["queue"].name == "payments"
    assert router.route({}, "core.echo")["queue"].name == "default"


def test_reliability_settings():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.result_backend == "django-db"
    assert conf.beat_scheduler == "worker.scheduler:OutageTolerantScheduler"
    assert conf.redbeat_lock_timeout >= 3 * conf.beat_max_loop_interval
    assert "redbeat_redis_options" in list(conf.keys()), "redbeat reads only keys it finds by name"
    assert "core.heartbeat" in conf.beat_schedule
    assert not conf.task_always_eager


@pytest.mark.django_db(transaction=True)
def test_the_request_id_follows_a_task_into_the_worker(celery_worker_process):
    token = bind_request_id("req-42")
    try:
        result = echo.delay("x")
    finally:
        unbind_request_id(token)
    assert result.get(timeout=30) == {"value": "x", "request_id": "req-42"}
