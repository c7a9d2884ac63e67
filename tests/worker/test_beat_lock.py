"""One beat anywhere (docs/adr/0017): two real `celery beat` processes on a real Redis of the test's own send
each periodic entry once per interval, and when the sending beat is killed the other takes over."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict

import pytest

from tests.support.beat_probe import ENTRIES, INTERVAL_SECONDS, sent
from tests.support.processes import ROOT, child_env, kill, stop
from tests.support.redis_servers import RedisProcess
from tests.support.waiting import wait_until

LOCK_TIMEOUT_SECONDS = 3
LOCK_KEY = "salon:beat:lock"


class Beat:
    def __init__(self, broker_url: str, log_path) -> None:
        env = child_env(
            REDIS_URL=broker_url,
            CELERY_BROKER_URL=broker_url,
            BEAT_MAX_INTERVAL_SECONDS="1",
            BEAT_LOCK_TIMEOUT_SECONDS=str(LOCK_TIMEOUT_SECONDS),
        )
        self.log_path = log_path
        command = [sys.executable, "-m", "celery", "-A", "tests.support.short_beat", "beat"]
        command += ["--loglevel", "INFO", "--schedule", str(log_path) + ".db"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisProcess(tmp_path, []).start()
    yield server
    server.stop()


def from_pid(records: list[dict], pid: int) -> list[dict]:
    return [record for record in records if record["pid"] == pid]


def assert_each_entry_once_per_interval(records: list[dict]) -> None:
    """Two beats sending would put two sends of an entry within one interval; one beat never does."""
    by_entry: dict[str, list[float]] = defaultdict(list)
    for record in records:
        by_entry[record["entry"]].append(record["at"])
    assert set(by_entry) == set(ENTRIES)
    for entry, times in by_entry.items():
        gaps = [later - earlier for earlier, later in zip(sorted(times), sorted(times)[1:], strict=False)]
        assert min(gaps) >= INTERVAL_SECONDS / 2, f"{entry} sent twice within one interval: {gaps}"


def test_two_beats_send_once_and_the_second_takes_over_when_the_first_dies(redis_server, tmp_path):
    client = redis_server.client()
    first = Beat(f"redis://127.0.0.1:{redis_server.port}/0", tmp_path / "first.log")
    second = None
    try:
        wait_until(lambda: len(from_pid(sent(client), first.pid)) >= 6, timeout=60, message=first.log)
        assert client.exists(LOCK_KEY)

        second = Beat(f"redis://127.0.0.1:{redis_server.port}/0", tmp_path / "second.log")
        wait_until(lambda: "Acquiring lock" in second.log() or "beat: Starting" in second.log(), timeout=60)
        seen = len(sent(client))
        # Several intervals with both beats up: only the lock holder sends.
        wait_until(lambda: len(sent(client)) >= seen + 6, timeout=60)
        assert from_pid(sent(client), second.pid) == []
        assert "Acquired lock" not in second.log()

        first.process.kill()  # SIGKILL: no chance to release the lock
        killed_at = time.time()
        first.process.wait(timeout=10)
        taken = wait_until(lambda: from_pid(sent(client), second.pid), timeout=60, message=second.log)
        takeover_seconds = taken[0]["at"] - killed_at
        print(f"beat takeover after SIGKILL: {takeover_seconds:.1f} s (lock {LOCK_TIMEOUT_SECONDS} s)")
        assert "Acquired lock" in second.log()
        wait_until(lambda: len(from_pid(sent(client), second.pid)) >= 6, timeout=60)

        records = sent(client)
        assert {record["pid"] for record in records} == {first.pid, second.pid}
        assert all(record["at"] > killed_at for record in from_pid(records, second.pid))
        assert_each_entry_once_per_interval(records)

        second.stop()  # a stopped beat releases its lock at once: the next takes over without waiting
        assert not client.exists(LOCK_KEY)
    finally:
        for beat in (first, second):
            if beat is not None:
                kill(beat.process)
