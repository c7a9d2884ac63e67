"""Real Redis servers of a test's own, on free ports: a master, its replicas and Sentinels watching them, so
tests can kill or fail over Redis without touching the machine's server. Needs the `redis-server` binary
(Debian's redis-server package; Sentinel is `redis-server --sentinel`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import redis

from tests.support.processes import kill, stop
from tests.support.waiting import wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisProcess:
    """One `redis-server` (or Sentinel, with `sentinel=True`) started from a config file in `directory`."""

    def __init__(self, directory: Path, lines: list[str], *, sentinel: bool = False) -> None:
        self.port = free_port()
        self.directory = directory / f"redis-{self.port}"
        self.directory.mkdir(parents=True)
        self.config = self.directory / "redis.conf"
        base = [f"port {self.port}", "bind 127.0.0.1", f'dir "{self.directory}"', 'save ""']
        self.config.write_text("\n".join(base + lines) + "\n")
        self.sentinel = sentinel
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisProcess:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        command = [binary, str(self.config)] + (["--sentinel"] if self.sentinel else [])
        log = (self.directory / "log.txt").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, timeout=15, message=lambda: (self.directory / "log.txt").read_text())
        return self

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, socket_timeout=2, socket_connect_timeout=2)

    def kill(self) -> None:
        kill(self.process)

    def stop(self) -> None:
        stop(self.process)


class SentinelGroup:
    """A master, one replica and three Sentinels (quorum 2) watching it under `name`."""

    def __init__(self, directory: Path, name: str = "test-master", down_after_ms: int = 1000) -> None:
        self.name = name
        self.master = RedisProcess(directory, []).start()
        self.replica = RedisProcess(directory, [f"replicaof 127.0.0.1 {self.master.port}"]).start()
        wait_until(self._replica_in_sync, timeout=15)
        monitor = [
            f"sentinel monitor {name} 127.0.0.1 {self.master.port} 2",
            f"sentinel down-after-milliseconds {name} {down_after_ms}",
            f"sentinel failover-timeout {name} 5000",
            f"sentinel parallel-syncs {name} 1",
        ]
        self.sentinels = [RedisProcess(directory, monitor, sentinel=True).start() for _ in range(3)]
        wait_until(self._sentinels_see_everyone, timeout=30)

    @property
    def servers(self) -> list[RedisProcess]:
        return [self.master, self.replica]

    def url(self, db: int = 0) -> str:
        """The `sentinel://` URL the settings read (docs/adr/0017)."""
        return ";".join(f"sentinel://127.0.0.1:{s.port}" for s in self.sentinels) + f"/{db}"

    def master_port(self) -> int:
        _host, port = self.sentinels[0].client().sentinel_get_master_addr_by_name(self.name)
        return int(port)

    def _replica_in_sync(self) -> bool:
        info = self.replica.client().info("replication")
        return info.get("master_link_status") == "up"

    def _sentinels_see_everyone(self) -> bool:
        for sentinel in self.sentinels:
            state = sentinel.client().sentinel_master(self.name)
            if int(state["num-other-sentinels"]) < 2 or int(state["num-slaves"]) < 1:
                return False
        return True

    def stop(self) -> None:
        for process in [*self.sentinels, self.master, self.replica]:
            process.stop()
