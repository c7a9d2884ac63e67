"""Data retention (docs/data-retention.md): each service removes exactly what the policy says, rows just
inside each boundary stay, and a second run changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from backend.accounts.models import OtpChallenge
from backend.accounts.services import otp_challenges_purge
from backend.bookings.models import BookingStatus
from backend.core.models import IdempotencyRecord
from backend.core.services import idempotency_records_purge
from backend.notifications.models import Notification, Status
from backend.notifications.services import (
    notification_bodies_purge,
    notifications_anonymise_deleted_recipients,
)
from backend.reviews.models import Review
from backend.reviews.services import reviews_anonymise_deleted_customers
from tests.support.factories import make_booking, make_salon, make_service, make_staff, make_user, next_phone
from worker.beat import BEAT_SCHEDULE
from worker.celery import app

pytestmark = pytest.mark.django_db

NOW = timezone.now()  # services take `now`; rows are placed around it
SECOND = timedelta(seconds=1)


def deleted_user():
    user = make_user()
    user.phone_number, user.deleted_at, user.is_active = None, NOW - timedelta(days=1), False
    user.save()
    return user


# --- login codes -----------------------------------------------------------------------------------


def challenge(expires_at):
    return OtpChallenge.objects.create(
        phone_number=next_phone(), channel="sms", code_hash="x", sent_at=expires_at, expires_at=expires_at
    )


def test_login_codes_expired_longer_than_the_retention_go(settings):
    settings.RETENTION_OTP_DAYS = 1
    boundary = NOW - timedelta(days=1)
    old = challenge(boundary - SECOND)
    kept = [
        challenge(boundary + SECOND),
        challenge(NOW - timedelta(minutes=1)),
        challenge(NOW + timedelta(minutes=5)),
    ]
    assert otp_challenges_purge(now=NOW) == 1
    assert not OtpChallenge.objects.filter(pk=old.pk).exists()
    assert set(OtpChallenge.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert otp_challenges_purge(now=NOW) == 0


def test_the_login_code_retention_is_configurable(settings):
    settings.RETENTION_OTP_DAYS = 7
    challenge(NOW - timedelta(days=2))
    assert otp_challenges_purge(now=NOW) == 0


# --- notifications ---------------------------------------------------------------------------------


def notification(*, status=Status.SENT, sent_at=None, recipient=None, body="Your booking is confirmed"):
    return Notification.objects.create(
        recipient=recipient,
        phone="+966501234567",
        kind="booking_confirmed",
        body=body,
        dedupe_key=f"k:{next_phone()}",
        status=status,
        sent_at=sent_at,
        failed_at=NOW - timedelta(days=90) if status == Status.FAILED else None,
    )


def test_bodies_of_rows_delivered_longer_ago_than_the_retention_are_blanked(settings):
    settings.RETENTION_NOTIFICATION_BODY_DAYS = 30
    boundary = NOW - timedelta(days=30)
    customer, gone = make_user(), deleted_user()
    old = notification(sent_at=boundary - SECOND, recipient=customer)
    old_of_deleted = notification(sent_at=boundary - SECOND, recipient=gone)
    recent = notification(sent_at=boundary + SECOND, recipient=customer)
    failed = notification(status=Status.FAILED)  # not delivered: not this rule's
    pending = notification(status=Status.PENDING)

    assert notification_bodies_purge(now=NOW) == 2

    old.refresh_from_db()
    assert (old.body, old.phone, old.kind, old.status) == ("", "+966501234567", "booking_confirmed", "sent")
    assert old.sent_at == boundary - SECOND
    old_of_deleted.refresh_from_db()
    assert (old_of_deleted.body, old_of_deleted.phone) == ("", "")
    for row in (recent, failed, pending):
        row.refresh_from_db()
        assert (row.body, row.phone) == ("Your booking is confirmed", "+966501234567")
    assert notification_bodies_purge(now=NOW) == 0


def test_a_blanked_row_of_a_later_deleted_account_loses_its_phone_too(settings):
    settings.RETENTION_NOTIFICATION_BODY_DAYS = 30
    row = notification(sent_at=NOW - timedelta(days=31), recipient=deleted_user(), body="")
    assert notification_bodies_purge(now=NOW) == 1
    row.refresh_from_db()
    assert row.phone == ""


def test_finished_rows_of_deleted_accounts_lose_phone_and_text_whatever_their_age():
    gone, customer = deleted_user(), make_user()
    sent = notification(sent_at=NOW - timedelta(minutes=1), recipient=gone)
    failed = notification(status=Status.FAILED, recipient=gone)
    in_flight = notification(status=Status.PENDING, recipient=gone)  # e.g. the deletion's cancellation
    other = notification(sent_at=NOW - timedelta(minutes=1), recipient=customer)
    no_recipient = notification(sent_at=NOW - timedelta(minutes=1))

    assert notifications_anonymise_deleted_recipients(now=NOW) == 2

    for row in (sent, failed):
        row.refresh_from_db()
        assert (row.body, row.phone) == ("", "")
        assert row.status in (Status.SENT, Status.FAILED)
    for row in (in_flight, other, no_recipient):
        row.refresh_from_db()
        assert (row.body, row.phone) == ("Your booking is confirmed", "+966501234567")
    assert notifications_anonymise_deleted_recipients(now=NOW) == 0


# --- reviews ---------------------------------------------------------------------------------------


def review_by(customer, comment):
    salon = make_salon()
    service = make_service(salon)
    staff = make_staff(salon, services=[service])
    booking = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=NOW - timedelta(days=3),
        status=BookingStatus.COMPLETED,
    )
    return Review.objects.create(
        booking=booking,
        salon=salon,
        staff=staff,
        service=service,
        customer=customer,
        rating=4,
        comment=comment,
        reply="Thank you",
    )


def test_comments_of_deleted_accounts_go_and_ratings_stay():
    customer = make_user()
    gone = review_by(customer, "Great fade")
    customer.phone_number, customer.deleted_at = None, NOW  # deleted before the deletion hook existed
    customer.save()
    kept = review_by(make_user(), "Lovely")

    assert reviews_anonymise_deleted_customers(now=NOW) == 1

    gone.refresh_from_db()
    assert (gone.comment, gone.rating, gone.reply) == ("", 4, "Thank you")
    kept.refresh_from_db()
    assert kept.comment == "Lovely"
    assert reviews_anonymise_deleted_customers(now=NOW) == 0


# --- idempotency records ---------------------------------------------------------------------------


def record(created_at):
    row = IdempotencyRecord.objects.create(
        user=make_user(), scope="bookings.create", key=next_phone(), request_hash="h"
    )
    IdempotencyRecord.objects.filter(pk=row.pk).update(created_at=created_at)  # auto_now_add
    return row


def test_idempotency_answers_older_than_their_ttl_go(settings):
    settings.IDEMPOTENCY_TTL_HOURS = 24
    boundary = NOW - timedelta(hours=24)
    old = record(boundary - SECOND)
    kept = record(boundary + SECOND)
    assert idempotency_records_purge(now=NOW) == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert idempotency_records_purge(now=NOW) == 0


# --- task results: celery's own backend_cleanup, scheduled explicitly ---------------------------------


def test_task_results_older_than_celery_result_expires_are_purged_by_beat(settings):
    expires = app.conf.result_expires
    assert expires == settings.CELERY_RESULT_EXPIRES
    assert BEAT_SCHEDULE["celery.backend_cleanup"]["task"] == "celery.backend_cleanup"
    TaskResult.objects.create(task_id="old", status="SUCCESS")
    TaskResult.objects.create(task_id="new", status="SUCCESS")
    # date_done is auto_now: move it after the insert.
    TaskResult.objects.filter(task_id="old").update(date_done=timezone.now() - expires - timedelta(minutes=1))
    TaskResult.objects.filter(task_id="new").update(date_done=timezone.now() - expires + timedelta(minutes=1))

    app.tasks["celery.backend_cleanup"]()  # the task beat sends, run in-process
    assert list(TaskResult.objects.values_list("task_id", flat=True)) == ["new"]
    app.tasks["celery.backend_cleanup"]()
    assert list(TaskResult.objects.values_list("task_id", flat=True)) == ["new"]
