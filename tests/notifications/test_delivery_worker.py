"""Delivery end to end: rows committed in PostgreSQL, a real `celery worker` subprocess on the real Redis,
and the real Unifonic client talking HTTP to the fake Unifonic server."""

from collections import Counter

import pytest
import redis
from django.db import transaction
from django.test import override_settings

from backend.fakes.unifonic import FakeUnifonic
from backend.notifications.models import Kind, Notification, Status
from backend.notifications.services import notification_create, notification_sweep
from tests.support.processes import WorkerProcess, child_env
from tests.support.waiting import wait_until
from worker.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONTEXT = {"salon": "Lamsa", "service": "Haircut", "staff": "Sara", "when": "Tuesday 16:30"}
APP_SID = "test-unifonic-appsid"
# Short clocks so that retries, staleness and the sweep happen within a test; the same rules as production.
FAST_CLOCKS = {
    "NOTIFICATION_RETRY_BASE_DELAY_SECONDS": "1",
    "NOTIFICATION_RETRY_JITTER": "0",
    "NOTIFICATION_STALE_SECONDS": "4",
    "NOTIFICATION_SWEEP_AFTER_SECONDS": "2",
    "WHATSAPP_STATUS_GRACE_SECONDS": "2",
    "CELERY_TASK_SOFT_TIME_LIMIT": "2",
    "CELERY_TASK_TIME_LIMIT": "3",
    "CELERY_MAX_RETRY_COUNTDOWN_SECONDS": "10",
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "20",
}


@pytest.fixture
def unifonic():
    with FakeUnifonic(app_sid=APP_SID) as fake:
        yield fake


@pytest.fixture
def worker_env(unifonic, settings):
    provider = {"SMS_PROVIDER": "unifonic", "UNIFONIC_BASE_URL": unifonic.url, "UNIFONIC_APP_SID": APP_SID}
    settings.SMS_PROVIDER = "unifonic"
    settings.UNIFONIC_BASE_URL = unifonic.url
    settings.UNIFONIC_APP_SID = APP_SID
    return child_env(**provider, **FAST_CLOCKS)


@pytest.fixture
def worker(worker_env):
    app.control.purge()
    process = WorkerProcess(queues="notifications", concurrency=4, env=worker_env).start()
    yield process
    process.stop()


def write(count: int, prefix: str = "event") -> list[int]:
    with transaction.atomic():
        rows = [
            notification_create(
                kind=Kind.BOOKING_CONFIRMED,
                phone=f"+96650{1000000 + n:07d}",
                language="en",
                context=CONTEXT,
                dedupe_key=f"{prefix}:{n}",
            )
            for n in range(count)
        ]
    return [row.pk for row in rows]


def all_sent(ids: list[int]) -> bool:
    return Notification.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids)


def deliveries(fake: FakeUnifonic) -> Counter:
    return Counter(message["CorrelationID"] for message in fake.messages())


def test_exactly_one_message_after_commit(worker, unifonic):
    [notification_id] = write(1)
    wait_until(lambda: all_sent([notification_id]))
    assert deliveries(unifonic) == {str(notification_id): 1}
    row = Notification.objects.get(pk=notification_id)
    assert row.provider == "unifonic" and row.provider_message_id and row.attempts == 1
    assert str(unifonic.messages()[0]["Recipient"]) == row.phone.lstrip("+")


def test_nothing_is_sent_after_a_rollback(worker, unifonic):
    with pytest.raises(RuntimeError), transaction.atomic():
        notification_create(
            kind=Kind.BOOKING_CONFIRMED, phone="+966501234567", language="en", context=CONTEXT, dedupe_key="x"
        )
        raise RuntimeError("booking failed")
    [control] = write(1, prefix="control")  # a committed row sent after it proves the worker was listening
    wait_until(lambda: all_sent([control]))
    assert deliveries(unifonic) == {str(control): 1}
    assert not Notification.objects.filter(dedupe_key="x").exists()


def test_provider_503_three_times_then_success_sends_once(worker, unifonic):
    unifonic.fail_next(3, status=503)
    [notification_id] = write(1)
    wait_until(lambda: all_sent([notification_id]), timeout=60)
    row = Notification.objects.get(pk=notification_id)
    assert row.attempts == 4
    assert deliveries(unifonic) == {str(notification_id): 1}
    assert [entry["status"] for entry in unifonic.journal()] == [503, 503, 503, 200]


def test_a_permanent_provider_error_fails_at_once(worker, unifonic):
    with transaction.atomic():
        row = notification_create(
            kind=Kind.BOOKING_CONFIRMED,
            phone="+1234",
            language="en",
            context=CONTEXT,
            dedupe_key="bad-number",
        )
    wait_until(lambda: Notification.objects.get(pk=row.pk).status == Status.FAILED)
    row.refresh_from_db()
    assert row.attempts == 1 and row.last_error
    assert len(unifonic.journal()) == 1


@override_settings(NOTIFICATION_STALE_SECONDS=4, NOTIFICATION_SWEEP_AFTER_SECONDS=2)
def test_a_worker_killed_mid_run_loses_nothing(worker_env, unifonic):
    """SIGKILL while messages are queued and in flight, start a new worker: every message is sent, none
    twice at the provider. A message in flight at the kill reached the provider but its answer was lost;
    sent again with the same CorrelationID, Unifonic refuses it as a duplicate, which counts as sent."""
    app.control.purge()
    unifonic.latency_ms = 300
    first = WorkerProcess(queues="notifications", concurrency=4, env=worker_env).start()
    ids = write(40)
    wait_until(lambda: Notification.objects.filter(status=Status.SENT).count() >= 4)
    first.kill()
    in_flight = Notification.objects.filter(status=Status.SENDING).count()
    sent_before = Notification.objects.filter(status=Status.SENT).count()
    assert sent_before < len(ids), "the kill came too late to prove anything"
    second = WorkerProcess(queues="notifications", concurrency=4, env=worker_env).start()
    try:
        # Beat runs the sweep every minute in production; here the test runs it until all is delivered.
        wait_until(lambda: notification_sweep() >= 0 and all_sent(ids), timeout=60, interval=1)
    finally:
        second.stop()
    assert deliveries(unifonic) == {str(pk): 1 for pk in ids}
    refused_as_duplicates = [entry for entry in unifonic.journal() if entry["status"] == 409]
    assert len(refused_as_duplicates) <= in_flight <= 4


@override_settings(NOTIFICATION_SWEEP_AFTER_SECONDS=2)
def test_messages_lost_by_redis_are_recovered_by_the_sweep(worker_env, unifonic):
    """Rows committed while no worker runs; Redis then loses its data (a restart without persistence):
    the queue is empty, the rows are not. The sweep finds them; each is sent exactly once."""
    app.control.purge()
    ids = write(10)
    broker = redis.Redis.from_url(app.conf.broker_url)
    assert broker.llen("notifications") == 10
    broker.flushdb()  # what a Redis restart without persistence leaves behind
    worker = WorkerProcess(queues="notifications", concurrency=4, env=worker_env).start()
    try:
        # A row committed now is delivered: the worker consumes, so the lost rows are not in its queue.
        [control] = write(1, prefix="control")
        wait_until(lambda: all_sent([control]))
        assert Notification.objects.filter(pk__in=ids, status=Status.SENT).count() == 0
        wait_until(lambda: notification_sweep() >= 0 and all_sent(ids), timeout=30, interval=1)
    finally:
        worker.stop()
    assert deliveries(unifonic) == {str(pk): 1 for pk in [*ids, control]}
