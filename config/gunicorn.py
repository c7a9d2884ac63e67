"""Gunicorn's settings beyond the command line (`gunicorn -c config/gunicorn.py`, Procfile and compose): its
own lines (the master's, and the access log) in the application's format and clock, UTC
(backend/core/logformat.py), instead of gunicorn's local-time formats. Gunicorn reads this before any
Django import, so it takes LOG_FORMAT the way config/settings.py does, from the environment."""

import environ

from backend.core import logformat

_env = environ.Env()
_format = _env("LOG_FORMAT", default="plain" if _env.bool("DJANGO_DEBUG", default=False) else "json")
_line = {"handlers": ["console"], "level": "INFO", "propagate": False}

# Apache's combined format without its own local-time `%(t)s`: the line's time is the formatter's.
access_log_format = '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": logformat.formatters(),
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": _format, "stream": "ext://sys.stdout"}
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"gunicorn.error": _line, "gunicorn.access": _line},
}
