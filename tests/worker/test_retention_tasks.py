"""The retention tasks are thin: each calls its service, and beat runs each daily."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import OtpChallenge
from worker.beat import BEAT_SCHEDULE
from worker.celery import app
from worker.tasks import retention

pytestmark = pytest.mark.django_db


def test_each_retention_task_is_scheduled_daily():
    for name in (
        "retention.otp_challenges",
        "retention.notification_bodies",
        "retention.deleted_accounts",
        "retention.idempotency_records",
        "celery.backend_cleanup",
    ):
        entry = BEAT_SCHEDULE[name]
        assert entry["task"] in app.tasks
        assert entry["schedule"].remaining_estimate(timezone.now()) <= timedelta(days=1)
        assert app.amqp.router.route({}, entry["task"])["queue"].name == "default"


def test_the_tasks_call_their_services():
    expired = timezone.now() - timedelta(days=3)
    OtpChallenge.objects.create(
        phone_number="+966501110000", channel="sms", code_hash="x", sent_at=expired, expires_at=expired
    )
    assert retention.purge_otp_challenges() == 1
    assert retention.purge_notification_bodies() == 0
    assert retention.anonymise_deleted_accounts() == {"notifications": 0, "reviews": 0}
    assert retention.purge_idempotency_records() == 0
