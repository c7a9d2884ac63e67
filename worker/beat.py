"""What celery beat runs, and how often: declared here, in code, and nowhere else. Beat uses
celery-redbeat's scheduler (config/settings.py, docs/adr/0017): at start it writes these entries to the
broker's Redis (removing any no longer listed), and only the beat holding the lock sends them, so a
deployment may run two or more beats."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "core.heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    "notifications.sweep": {"task": "notifications.sweep", "schedule": 60.0},
    "bookings.expire_holds": {"task": "bookings.expire_holds", "schedule": 60.0},
    "bookings.write_reminders": {"task": "bookings.write_reminders", "schedule": 60.0},
    "bookings.sweep_bulk_cancellations": {"task": "bookings.sweep_bulk_cancellations", "schedule": 60.0},
    "waitlist.sweep": {"task": "waitlist.sweep", "schedule": 60.0},
    "payments.reconcile": {"task": "payments.reconcile", "schedule": 60.0},
    "einvoicing.sweep": {"task": "einvoicing.sweep", "schedule": 60.0},
    # Data retention (docs/data-retention.md), nightly in CELERY_TIMEZONE when traffic is lowest.
    "retention.otp_challenges": {"task": "retention.otp_challenges", "schedule": crontab(hour=3, minute=0)},
    "retention.notification_bodies": {
        "task": "retention.notification_bodies",
        "schedule": crontab(hour=3, minute=10),
    },
    "retention.deleted_accounts": {
        "task": "retention.deleted_accounts",
        "schedule": crontab(hour=3, minute=20),
    },
    "retention.idempotency_records": {
        "task": "retention.idempotency_records",
        "schedule": crontab(hour=3, minute=30),
    },
    # Celery's own task: deletes django-celery-results rows older than CELERY_RESULT_EXPIRES. The database
    # scheduler would add it silently at 04:00; declared here so it is visible and tested.
    "celery.backend_cleanup": {"task": "celery.backend_cleanup", "schedule": crontab(hour=3, minute=40)},
}
