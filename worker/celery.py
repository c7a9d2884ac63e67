"""The Celery app. Configuration comes from Django settings (every `CELERY_*` name in config/settings.py);
queues and the beat schedule are declared here so one file shows how work flows."""

import os

from celery import Celery
from django.conf import settings
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("salon")
app.config_from_object("django.conf:settings", namespace="CELERY")
# celery-redbeat looks its settings up by name in `app.conf.keys()`, where Django's namespaced settings keep
# their CELERY_ names: hand them over as plain Celery keys too, or it ignores the Redis options it is given.
app.conf.update(
    {
        name.removeprefix("CELERY_").lower(): getattr(settings, name)
        for name in dir(settings)
        if name.startswith("CELERY_REDBEAT_")
    }
)

# One queue per kind of work, so a slow SMS provider never delays payments or sweeps. Procfile and
# docker-compose run a worker per queue group; see README "Scaling workers".
QUEUES = ("default", "notifications", "payments", "einvoicing")
app.conf.task_queues = [Queue(name) for name in QUEUES]

app.conf.imports = ("worker.tasks",)

# The request id rides along with every task (worker/signals.py).
import worker.signals  # noqa: E402, F401


@app.on_after_finalize.connect
def _load_beat_schedule(sender: Celery, **_kwargs) -> None:
    from worker.beat import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
