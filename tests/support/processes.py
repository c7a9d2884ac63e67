"""Real processes for tests whose behaviour is about them: a Celery worker on the real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.support.database import database_url

ROOT = Path(__file__).resolve().parents[2]


def child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    env.update(overrides)
    return env


class WorkerProcess:
    """`celery worker` as a subprocess: can be killed (SIGKILL) and started again like in production."""

    def __init__(
        self,
        *,
        queues: str = "default,notifications,payments",
        pool: str = "threads",
        concurrency: int = 4,
        env: dict[str, str] | None = None,
    ) -> None:
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "-Q",
            queues,
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--hostname",
            self.hostname,
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ]
        self.env = env or child_env()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        from worker.celery import app

        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early with {self.process.returncode}")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
        self.stop()
        raise TimeoutError("worker did not answer a ping in time")

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to finish or acknowledge anything."""
        kill(self.process)

    def stop(self) -> None:
        stop(self.process)


def kill(process: subprocess.Popen | None) -> None:
    """SIGKILL, and wait for the process to be gone."""
    if process and process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def stop(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM; SIGKILL if the process is still there after `timeout` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill(process)
