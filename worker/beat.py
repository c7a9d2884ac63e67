"""What celery beat runs, and how often. Beat uses django-celery-beat's database scheduler, which syncs
these entries into the database at start; ops can pause or re-time them in the Django admin."""

BEAT_SCHEDULE: dict[str, dict] = {
    "core.heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    "notifications.sweep": {"task": "notifications.sweep", "schedule": 60.0},
    "bookings.expire_holds": {"task": "bookings.expire_holds", "schedule": 60.0},
    "bookings.write_reminders": {"task": "bookings.write_reminders", "schedule": 60.0},
    "payments.reconcile": {"task": "payments.reconcile", "schedule": 60.0},
}
