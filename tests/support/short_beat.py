"""The project's Celery app with a schedule of two one-second entries, for tests of beat itself: run as
`celery -A tests.support.short_beat beat`, never imported by the test process (it replaces the schedule).
Every message beat publishes is also noted (entry, time, pid) in the list `probe:sent` of the broker's
Redis, so a test sees which beat sent what and when."""

import json
import os
import time

import redis
from celery import Celery
from celery.signals import before_task_publish

from tests.support.beat_probe import ENTRIES, INTERVAL_SECONDS, SENT_KEY
from worker.celery import app


@app.on_after_finalize.connect
def _short_schedule(sender: Celery, **_kwargs) -> None:
    # Connected after worker.celery's handler, so this schedule replaces the project's.
    sender.conf.beat_schedule = {
        name: {"task": "core.echo", "schedule": INTERVAL_SECONDS, "args": [name]} for name in ENTRIES
    }


@before_task_publish.connect
def _note(body=None, **_kwargs) -> None:
    args = body[0] if body else []
    record = {"entry": args[0] if args else None, "at": time.time(), "pid": os.getpid()}
    redis.Redis.from_url(app.conf.broker_url).rpush(SENT_KEY, json.dumps(record))
