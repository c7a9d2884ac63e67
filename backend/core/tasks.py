"""Publishing Celery tasks from request and service code: after the transaction commits, never instead of it.

By the time the task is published the change it is about is committed, so a broker outage at that moment
must not turn a committed booking or payment into a 500 (the client would retry a change it already
made). The failure is logged, and the row it concerns waits for whatever publishes it again: the
notifications sweep, the payments reconcile task."""

import logging
from collections.abc import Callable
from typing import Any

import redis
from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)


def enqueue_on_commit(
    task: Task,
    *args: Any,
    recovery: str,
    countdown: float | None = None,
    on_failure: Callable[[], None] | None = None,
) -> None:
    """Publishes `task(*args)` once the current transaction commits (a rollback publishes nothing).
    `recovery` says, for the log, what publishes it again if the broker is unreachable now; `on_failure`
    then runs (outside the transaction: it has committed), e.g. to undo a "task queued" mark."""

    def publish() -> None:
        try:
            task.apply_async(args, countdown=countdown)
        except (BrokerUnavailable, redis.RedisError):
            message = "%s%r was not enqueued: the broker is unreachable; %s"
            logger.warning(message, task.name, args, recovery, exc_info=True)
            if on_failure is not None:
                on_failure()

    transaction.on_commit(publish)
