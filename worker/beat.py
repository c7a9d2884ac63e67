"""What celery beat runs, and how often. Beat uses django-celery-beat's database scheduler, which syncs
these entries into the database at start; ops can pause or re-time them in the Django admin."""

BEAT_SCHEDULE: dict[str, dict] = {
    "core.heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
}
