"""Every log line of the stack carries one clock, UTC in ISO 8601 with a Z: the application's (Django,
Celery, Flower through config/settings.py LOGGING) and gunicorn's own (config/gunicorn.py), whatever the
process's local time zone (Django sets it to TIME_ZONE, Riyadh)."""

import calendar
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

from backend.core import logformat

ROOT = Path(__file__).resolve().parents[2]
NOON_UTC = 1796212800.25  # 2026-12-02T12:00:00.250Z, 15:00 in Riyadh


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("backend.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.created, record.msecs = NOON_UTC, 250.0
    record.__dict__.update(extra)
    return record


def test_plain_lines_carry_utc_whatever_the_local_zone():
    assert time.localtime(NOON_UTC).tm_hour == 15  # this process runs on Riyadh time, as Django set it
    formatter = logformat.PlainFormatter(logformat.PLAIN, defaults={"request_id": "-"})
    assert (
        formatter.format(_record(request_id="abc"))
        == "2026-12-02T12:00:00.250Z INFO backend.x [abc] hello there"
    )
    assert formatter.format(_record()) == "2026-12-02T12:00:00.250Z INFO backend.x [-] hello there"


def test_json_lines_carry_utc_too():
    formatter = logformat.JsonFormatter(logformat.JSON, rename_fields=logformat.JSON_RENAMES)
    line = json.loads(formatter.format(_record(request_id="abc", client_ip="192.0.2.7")))
    assert line == {
        "time": "2026-12-02T12:00:00.250Z",
        "level": "INFO",
        "logger": "backend.x",
        "request_id": "abc",
        "client_ip": "192.0.2.7",
        "message": "hello there",
    }


APPLICATION = """
import logging, django
django.setup()
logging.getLogger("backend.x").warning("hello")
"""


def _run(code: str, **env: str) -> list[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "TZ": "UTC",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_ALLOWED_HOSTS": "x",
        "DATABASE_URL": "postgres://localhost/x",
        "REDIS_URL": "redis://localhost:6379/0",
    }
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    _last_run[:] = [int(started), time.time()]
    return (result.stdout + result.stderr).splitlines()


_last_run: list[float] = []  # when the last _run started (whole seconds, as the stamps parse) and ended


def _is_utc_now(stamp: str) -> bool:
    """Written during the last run, read as UTC: no bound on how long the run took (a local-time stamp
    is hours off)."""
    started, ended = _last_run
    return started <= calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")) <= ended


def test_the_application_logs_through_them():
    """Django switches the process to Riyadh time (TIME_ZONE); the lines stay in UTC."""
    [line] = _run(APPLICATION, DJANGO_DEBUG="1")
    stamp, rest = line.split(" ", 1)
    assert _is_utc_now(stamp) and rest == "WARNING backend.x [-] hello"
    [line] = _run(APPLICATION, DJANGO_DEBUG="0")
    assert _is_utc_now(json.loads(line)["time"])


GUNICORN = """
import runpy
from types import SimpleNamespace
from datetime import timedelta
from gunicorn.config import Config
from gunicorn.glogging import Logger

ours = runpy.run_path("config/gunicorn.py")
cfg = Config()
cfg.set("accesslog", "-")
for name in ("logconfig_dict", "access_log_format"):
    cfg.set(name, ours[name])
log = Logger(cfg)
log.info("Booting worker with pid: 1")
response = SimpleNamespace(status="200 OK", headers=[], response_length=2, sent=2)
environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/health/", "SERVER_PROTOCOL": "HTTP/1.1",
           "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "curl"}
request = SimpleNamespace(headers=[])
log.access(response, request, environ, timedelta(milliseconds=3))
"""


def test_gunicorns_own_lines_use_the_same_format_and_clock():
    """Gunicorn's master logs before Django is imported, in the machine's zone (here: Riyadh)."""
    booting, access = (line.split(" ", 1) for line in _run(GUNICORN, TZ="Asia/Riyadh", DJANGO_DEBUG="1"))
    assert _is_utc_now(booting[0]) and _is_utc_now(access[0])
    assert booting[1] == "INFO gunicorn.error [-] Booting worker with pid: 1"
    assert access[1] == 'INFO gunicorn.access [-] 127.0.0.1 - - "GET /health/ HTTP/1.1" 200 2 "-" "curl"'
    line = _run(GUNICORN, TZ="Asia/Riyadh", DJANGO_DEBUG="0")[0]  # production: JSON lines
    assert _is_utc_now(json.loads(line)["time"])
