"""One clock for every log line the stack writes: UTC, ISO 8601 with milliseconds and a `Z`
(`2026-12-02T12:59:57.616Z`). Django switches each of its processes' local time to TIME_ZONE (Riyadh),
while honcho, gunicorn's master and the log shipper keep the machine's, so local times in lines told three
different stories. Used by config/settings.py LOGGING and by gunicorn's config (config/gunicorn.py), which
runs before Django: this module must not import it."""

import logging
import time

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(client_ip)s %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


def utc_time(record: logging.LogRecord) -> str:
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(record.created))}.{int(record.msecs):03d}Z"


class PlainFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)


class JsonFormatter(_JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)


def formatters() -> dict[str, dict]:
    """dictConfig formatters named after LOG_FORMAT's values. Lines without a request (gunicorn's own, a
    task's outside any request) show `-` or null for its id."""
    return {
        "plain": {"()": PlainFormatter, "fmt": PLAIN, "defaults": {"request_id": "-"}},
        "json": {"()": JsonFormatter, "fmt": JSON, "rename_fields": JSON_RENAMES},
    }
