"""The production stack on loopback, for the harnesses that drive it: `make bench` (scripts/bench.py),
`make load` (scripts/load.py) and `make faults` (scripts/faults.py).

Each harness gets a scratch database `<DATABASE_URL's name>_<purpose>` on the same server (dropped and
re-created at each start, left afterwards for inspection) and one Redis database of REDIS_URL's server,
so dev and test data are never touched. The processes are the Procfile's: gunicorn serving the real
`config.wsgi`, Celery workers per queue; their output goes to `.dev/<purpose>/<name>.log`. The
measuring helpers (percentiles, tables, CPU read from /proc, the machine's summary) and the entry point
(`run_to_exit_code`: exit 0, 1 or 130, with a clean stop) are shared here too.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the project's packages (backend, worker), as manage.py sees them
    sys.path.insert(0, str(ROOT))
T = TypeVar("T")


class HarnessError(Exception):
    """The harness could not do its job (a process died, a deadline passed): exit 1, unlike a missed goal."""


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.02) -> T:
    """Polls `condition` until it returns something truthy, or fails after `timeout` seconds. The short
    pause between polls only spares the CPU; the condition alone decides when we go on."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- processes ------------------------------------------------------------------------------------------


class Child:
    """One process of the stack, its output in `<log_dir>/<name>.log` (its tail is shown on failure)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        env: Mapping[str, str],
        log_dir: Path,
        pass_fds: Sequence[int] = (),
        hostname: str = "",
    ) -> None:
        self.name = name
        self.hostname = hostname  # a Celery worker's node name, for pings and control commands
        self.command = command
        self.env = dict(env)
        self.pass_fds = tuple(pass_fds)
        self.log_dir = log_dir
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Child:
        """Starts the process; a restart appends to the same log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab" if self.process is not None else "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=self.pass_fds,
            )
        return self

    @property
    def pid(self) -> int:
        if self.process is None:
            raise HarnessError(f"{self.name} was never started")
        return self.process.pid

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise HarnessError(f"{self.name} exited ({code}); the end of {self.log_path}:\n{self.tail()}")

    def tail(self, lines: int = 25) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def listening_socket() -> socket.socket:
    """A loopback socket on an ephemeral port, handed to gunicorn (`--bind fd://N`): no race for the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # bench's P5 opens 100 connections at once
    sock.set_inheritable(True)
    return sock


def gunicorn(
    *,
    workers: int,
    env: Mapping[str, str],
    sock: socket.socket | None = None,
    log_dir: Path,
    name: str = "web",
    address: str = "",
) -> Child:
    # The Procfile's `web` line, bound to our socket (or, with `address`, to host:port itself, so that a
    # killed instance refuses connections), with a short graceful timeout so that stopping is quick.
    bind = address or f"fd://{sock.fileno()}"
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", bind, "--workers", str(workers), "--worker-class", "sync",
        "--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-",
    ]  # fmt: skip
    fds = [sock.fileno()] if sock is not None and not address else []
    return Child(name, command, env=env, log_dir=log_dir, pass_fds=fds)


def celery_worker(
    name: str, *, queues: str, pool: str, concurrency: int, env: Mapping[str, str], log_dir: Path
) -> Child:
    hostname = f"{log_dir.name}-{name}-{uuid.uuid4().hex[:6]}@localhost"
    # The Procfile's lines; without mingle and gossip (chatter between workers: there is one per queue).
    command = [
        sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", queues, "--pool", pool,
        "--concurrency", str(concurrency), "--hostname", hostname, "--without-mingle", "--without-gossip",
        "--loglevel", "INFO",
    ]  # fmt: skip
    return Child(name, command, env=env, log_dir=log_dir, hostname=hostname)


# --- stores and settings ------------------------------------------------------------------------------


def scratch_database_url(url: str, purpose: str) -> tuple[str, str]:
    """DATABASE_URL with its database renamed `<name>_<purpose>`, and that name."""
    parts = urlsplit(url)
    name = parts.path.strip("/")
    if not name:
        raise HarnessError("DATABASE_URL names no database")
    scratch_name = f"{name}_{purpose}"
    return urlunsplit(parts._replace(path=f"/{scratch_name}")), scratch_name


def redis_url_with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@dataclass(frozen=True)
class Stores:
    purpose: str  # "bench", "load", "faults": the database's suffix and the log directory's name
    database_url: str
    database_name: str
    maintenance_url: str  # the server's `postgres` database, to drop and create ours
    redis_url: str
    redis_db: int

    @property
    def log_dir(self) -> Path:
        return ROOT / ".dev" / self.purpose


def stores_from_env(environ: Mapping[str, str], *, purpose: str, redis_db: int) -> Stores:
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not environ.get(name):
            raise HarnessError(
                f"{name} is not set: run `make {purpose}`, which starts embedded servers if need be"
            )
    database_url, database_name = scratch_database_url(environ["DATABASE_URL"], purpose)
    maintenance_url = urlunsplit(urlsplit(environ["DATABASE_URL"])._replace(path="/postgres"))
    return Stores(
        purpose=purpose,
        database_url=database_url,
        database_name=database_name,
        maintenance_url=maintenance_url,
        redis_url=redis_url_with_db(environ["REDIS_URL"], redis_db),
        redis_db=redis_db,
    )


def stack_env(
    base: Mapping[str, str], stores: Stores, *, sms_url: str = "", sms_app_sid: str = "", **extra: str
) -> dict[str, str]:
    """Production settings, except what a loopback run must change (each change says why); `extra`
    overrides or adds settings for one harness."""
    env = {
        key: value
        for key, value in base.items()
        # Development leftovers that would change what runs: `make run`'s --reload, the test settings.
        if key not in ("GUNICORN_CMD_ARGS", "DJANGO_SETTINGS_MODULE", "CACHE_URL", "CELERY_BROKER_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
            "DATABASE_URL": stores.database_url,
            "REDIS_URL": stores.redis_url,
            # The cache shares the run's one Redis database, apart by its prefix; nothing clears it.
            "CACHE_URL": stores.redis_url,
            "CACHE_KEY_PREFIX": f"salon-{stores.purpose}",
            # Throttling stays on (its cache round trips are part of every request) but never refuses.
            "API_THROTTLE_USER": "1000000/min",
            "API_THROTTLE_ANON": "1000000/min",
            "JWT_ACCESS_MINUTES": "60",  # tokens minted at setup outlive the run
            "OTP_PROVIDER": "unifonic",
            "SMS_PROVIDER": "unifonic",
            "UNIFONIC_BASE_URL": sms_url,
            "UNIFONIC_APP_SID": sms_app_sid,
            "UNIFONIC_SENDER_ID": "Salon",
            "PYTHONUNBUFFERED": "1",
        }
    )
    insecure_key = f"{stores.purpose}-only-insecure-secret-key-0123456789-abcdefghijklmnop"
    env.setdefault("DJANGO_SECRET_KEY", insecure_key)
    env.update(extra)
    return env


def recreate_database(stores: Stores) -> None:
    import psycopg
    from psycopg import sql

    if not stores.database_name.endswith(f"_{stores.purpose}"):  # never drop anything but our own
        raise HarnessError(f"refusing to drop {stores.database_name!r}")
    with psycopg.connect(stores.maintenance_url, autocommit=True) as connection:
        name = sql.Identifier(stores.database_name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def setup_django(env: Mapping[str, str]) -> None:
    """The harness's own process speaks to the scratch database and Redis too: it fills them and reads
    the outcomes."""
    os.environ.update(env)
    import django

    django.setup()


def migrate_fresh(stores: Stores, env: Mapping[str, str]) -> None:
    """Drops and re-creates the scratch database, sets Django up on it and migrates it."""
    recreate_database(stores)
    setup_django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def clear_queues() -> None:
    """Messages left by an interrupted run: our queues and kombu's unacked set, in our Redis database only."""
    from worker.celery import app

    app.control.purge()
    with app.connection_for_write() as connection:
        connection.default_channel.client.delete("unacked", "unacked_index", "unacked_mutex")


def ping_worker(worker: Child, timeout: float = 0.5) -> bool:
    from worker.celery import app

    worker.check_alive()
    return bool(app.control.ping(destination=[worker.hostname], timeout=timeout))


def wait_stack_ready(base_url: str, web: Child, workers: Sequence[Child], *, timeout: float = 60) -> None:
    """Until gunicorn answers /health/ with 200 and every worker answers a ping; fails at once if one of
    them has exited."""

    def web_healthy() -> bool:
        web.check_alive()
        with contextlib.suppress(requests.RequestException):
            return requests.get(base_url + "/health/", timeout=5).status_code == 200
        return False

    wait_for(web_healthy, timeout=timeout, what="gunicorn to answer /health/", interval=0.1)
    for worker in workers:
        what = f"the {worker.name} worker to answer a ping"
        wait_for(lambda worker=worker: ping_worker(worker), timeout=timeout, what=what, interval=0.1)


# --- measuring: percentiles, tables, CPU from /proc, the machine and versions ----------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolating linearly between the two closest ranks (numpy's
    default), so a p95 of 200 samples does not jump from one sample to the next."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, not {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, padded so that it also reads as plain text in a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    return "\n".join(
        [line(headers), "|" + "|".join("-" * (width + 2) for width in widths) + "|"]
        + [line(row) for row in rows]
    )


def cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return "unknown CPU"


def machine_summary() -> str:
    """nproc, CPU model and RAM, as docs/performance.md records them with each table."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        model = cpu_model(Path("/proc/cpuinfo").read_text())
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        ram = f"{mem_kib / 1024**2:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        model, ram = "unknown CPU", "unknown RAM"
    return f"{cpus} CPUs (nproc), {model}, {ram}"


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (all their threads), from /proc; nan where unreadable."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return math.nan
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return total / os.sysconf("SC_CLK_TCK")


def child_pids(parent: int) -> list[int]:
    """gunicorn's workers: the processes whose parent is its master."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
    return pids


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from the first line of /proc/stat."""
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


@dataclass
class CpuMeter:
    """CPU used by some processes, and how busy the whole machine was, summed over measured stretches:
    the evidence of what bounds a figure when everything shares a few cores."""

    pids: Callable[[], Sequence[int]]
    seconds: float = 0.0  # the processes' CPU seconds
    wall: float = 0.0
    busy_ticks: int = 0
    total_ticks: int = 0

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        pids = self.pids()
        cpu, wall, (busy, total) = cpu_seconds(pids), time.perf_counter(), machine_ticks()
        yield
        self.seconds += cpu_seconds(pids) - cpu
        self.wall += time.perf_counter() - wall
        after_busy, after_total = machine_ticks()
        self.busy_ticks += after_busy - busy
        self.total_ticks += after_total - total

    def per_unit_ms(self, count: int) -> str:
        return f"{1000 * self.seconds / count:.1f} ms" if count and math.isfinite(self.seconds) else "n/a"

    def cores(self) -> str:
        """The processes' average CPU use, in cores."""
        return f"{self.seconds / self.wall:.2f}" if self.wall and math.isfinite(self.seconds) else "n/a"

    def machine_busy(self) -> str:
        return f"{100 * self.busy_ticks / self.total_ticks:.0f}%" if self.total_ticks else "n/a"

    def rest_of_machine_per_unit_ms(self, count: int, *, besides: Sequence[CpuMeter]) -> str:
        """The machine's busy CPU over the measured stretches, less these processes' and those of
        `besides` (measured over the same stretches), per unit: PostgreSQL, Redis and the kernel, when
        the measured processes are the only other load."""
        spent = [self.seconds, *(meter.seconds for meter in besides)]
        if not count or not self.total_ticks or not all(math.isfinite(seconds) for seconds in spent):
            return "n/a"
        rest = self.busy_ticks / os.sysconf("SC_CLK_TCK") - sum(spent)
        return f"{1000 * max(rest, 0.0) / count:.1f} ms"


def versions() -> str:
    from django.db import connection

    from worker.celery import app

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    with app.connection_for_write() as broker:
        redis = broker.default_channel.client.info("server")["redis_version"]
    return f"Python {sys.version.split()[0]}, PostgreSQL {postgres}, Redis {redis}"


# --- the entry point every harness shares ----------------------------------------------------------------

interrupted = threading.Event()


def _interrupt(signum: int, _frame: object) -> None:
    # Ctrl-C reaches us twice under devservices (from the terminal and forwarded): only the first counts,
    # so the clean-up it starts is not itself interrupted.
    if not interrupted.is_set():
        interrupted.set()
        raise KeyboardInterrupt


def run_to_exit_code(name: str, log_dir: Path, run: Callable[[], Any]) -> int:
    """Runs a harness and prints its report (anything with `render()`): 0 when it could measure, whatever
    the figures; 1 when the harness itself failed; 130 when interrupted (Ctrl-C, SIGTERM), after its
    clean-up has stopped everything it started."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    started = time.monotonic()
    try:
        report = run()
    except HarnessError as error:
        print(f"{name}: error: {error} (processes' logs in {log_dir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print(report.render(), flush=True)
    elapsed = time.monotonic() - started
    shown = log_dir.resolve().relative_to(ROOT) if log_dir.resolve().is_relative_to(ROOT) else log_dir
    print(f"{name}: done in {elapsed:.0f} s; logs in {shown}/", file=sys.stderr, flush=True)
    return 0
