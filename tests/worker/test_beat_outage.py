"""Beat rides out a Redis outage (worker/scheduler.py, docs/adr/0017): real `celery beat` processes on a real
Redis of the test's own, which is SIGKILLed and started again on the same port, with its data (saved just
before) or without. Beat stays up, sends nothing while Redis is gone, and afterwards each entry is sent once
per interval again, by one beat only."""

from __future__ import annotations

import time

import pytest

from tests.support.beat_probe import ENTRIES, sent
from tests.support.processes import kill
from tests.support.redis_servers import RedisProcess
from tests.support.waiting import wait_until
from tests.worker.test_beat_lock import LOCK_KEY, Beat, assert_each_entry_once_per_interval, from_pid
from worker.scheduler import OutageTolerantScheduler

UNREACHABLE = "Redis unreachable"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisProcess(tmp_path, []).start()
    yield server
    server.stop()


def restart(server: RedisProcess, beats: list[Beat], *, keep_data: bool) -> float:
    """SIGKILL Redis, wait until every beat noticed, start it again; returns when it was back."""
    if keep_data:
        server.client().save()  # dump.rdb in the server's directory, loaded again at start
    server.kill()
    for beat in beats:
        wait_until(lambda beat=beat: UNREACHABLE in beat.log(), timeout=60, message=beat.log)
    assert all(beat.process.poll() is None for beat in beats)
    server.start()
    return time.time()


def sent_since(client, moment: float) -> list[dict]:
    return [record for record in sent(client) if record["at"] > moment]


@pytest.mark.parametrize("keep_data", [False, True], ids=["empty", "with-data"])
def test_one_beat_stays_up_through_a_redis_restart_and_sends_again(redis_server, tmp_path, keep_data):
    client = redis_server.client()
    beat = Beat(f"redis://127.0.0.1:{redis_server.port}/0", tmp_path / "beat.log")
    try:
        wait_until(lambda: len(sent(client)) >= 4, timeout=60, message=beat.log)
        back_at = restart(redis_server, [beat], keep_data=keep_data)

        wait_until(lambda: len(sent_since(client, back_at)) >= 6, timeout=60, message=beat.log)
        assert beat.process.poll() is None
        records = sent_since(client, back_at)
        print(f"beat sent again {min(r['at'] for r in records) - back_at:.1f} s after Redis was back")
        assert {record["pid"] for record in records} == {beat.pid}
        assert_each_entry_once_per_interval(records)
        assert set(ENTRIES) == {record["entry"] for record in records}
        assert client.exists(LOCK_KEY)
        if not keep_data:  # the key went with the data: taken again before sending
            assert "Lost lock" in beat.log() and "Acquired lock" in beat.log().split("Lost lock")[1]
    finally:
        kill(beat.process)


@pytest.mark.parametrize("keep_data", [False, True], ids=["empty", "with-data"])
def test_two_beats_still_send_once_after_a_redis_restart(redis_server, tmp_path, keep_data):
    client = redis_server.client()
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    first = Beat(url, tmp_path / "first.log")
    second = None
    try:
        wait_until(lambda: len(from_pid(sent(client), first.pid)) >= 4, timeout=60, message=first.log)
        second = Beat(url, tmp_path / "second.log")
        wait_until(lambda: "beat: Starting" in second.log(), timeout=60, message=second.log)
        back_at = restart(redis_server, [first, second], keep_data=keep_data)

        wait_until(lambda: len(sent_since(client, back_at)) >= 8, timeout=60, message=first.log)
        assert first.process.poll() is None and second.process.poll() is None
        records = sent_since(client, back_at)
        assert len({record["pid"] for record in records}) == 1, records
        assert_each_entry_once_per_interval(records)
    finally:
        for beat in (first, second):
            if beat is not None:
                kill(beat.process)


def test_the_scheduler_in_process_waits_out_redis_and_takes_the_lock_again(redis_server, tmp_path):
    """The same paths inside this process (the coverage ratchet sees only these lines): a tick and a close
    without Redis, a lost lock, a lock first taken by a tick."""
    from worker.celery import app

    scheduler = OutageTolerantScheduler(app=app, lazy=True)
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    app.redbeat_conf.redis_url, saved = url, app.redbeat_conf.redis_url
    app.redbeat_redis, previous_client = None, getattr(app, "redbeat_redis", None)
    try:
        scheduler.setup_schedule()
        assert scheduler.lock is None
        assert scheduler.tick() > 0  # takes the lock first
        assert scheduler.lock is not None and redis_server.client().exists(LOCK_KEY)

        redis_server.client().delete(LOCK_KEY)  # as if Redis came back without it
        assert scheduler.tick() == scheduler.max_interval and scheduler.lock is None

        redis_server.kill()
        assert scheduler.tick() == scheduler.max_interval and scheduler.lock is None
        redis_server.start()
        scheduler.tick()
        assert scheduler.lock is not None

        redis_server.kill()
        scheduler.close()  # the lock is left to expire; no error out of a stopping beat
        assert scheduler.lock is None
    finally:
        app.redbeat_conf.redis_url = saved
        app.redbeat_redis = previous_client


def test_a_scheduler_built_while_redis_is_down_writes_its_schedule_once_back(redis_server):
    """Celery builds the scheduler in beat's start-up signal (which swallows errors) and again on the first
    tick (which would not): Redis gone at that moment must not end beat."""
    from worker.celery import app

    url = f"redis://127.0.0.1:{redis_server.port}/0"
    app.redbeat_conf.redis_url, saved = url, app.redbeat_conf.redis_url
    app.redbeat_redis, previous_client = None, getattr(app, "redbeat_redis", None)
    schedule = app.redbeat_conf.schedule
    app.redbeat_conf.schedule = {"probe": {"task": "probe", "schedule": 60.0}}
    statics = app.redbeat_conf.statics_key
    try:
        redis_server.kill()
        scheduler = OutageTolerantScheduler(app=app)  # not lazy: writes the schedule as beat does
        assert scheduler.schedule_written is False
        redis_server.start()
        scheduler.tick()  # takes the lock, then writes the schedule
        assert scheduler.schedule_written and scheduler.lock is not None
        assert redis_server.client().smembers(statics) == {b"probe"}

        redis_server.kill()
        scheduler.setup_schedule()
        assert scheduler.schedule_written is False
        redis_server.start()  # empty: the lock's key went with the data
        assert scheduler.tick() == scheduler.max_interval  # writes the schedule, then finds the lock lost
        assert scheduler.schedule_written and scheduler.lock is None
        assert redis_server.client().smembers(statics) == {b"probe"}
    finally:
        app.redbeat_conf.schedule = schedule
        app.redbeat_conf.redis_url = saved
        app.redbeat_redis = previous_client
