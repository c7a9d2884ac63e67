"""The outbox's rules, service by service, on real PostgreSQL. Delivery through a real worker and a fake
provider over HTTP is in test_delivery_worker.py."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from backend.accounts.models import User
from backend.core.http import ProviderError
from backend.notifications import channels
from backend.notifications.models import Kind, Notification, Status
from backend.notifications.rendering import format_amount, format_when, notification_render
from backend.notifications.selectors import notification_delivery_stats
from backend.notifications.services import (
    notification_claim,
    notification_create,
    notification_deliver,
    notification_retry,
    notification_sweep,
    retry_delay_seconds,
)
from worker.tasks.notifications import deliver_notification

pytestmark = pytest.mark.django_db

CONTEXT = {"salon": "Lamsa", "service": "Haircut", "staff": "Sara", "when": "Tuesday 1 December 2026, 16:30"}


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """Ids handed to the delivery task (the real task runs in test_delivery_worker.py)."""
    ids: list[int] = []
    monkeypatch.setattr(deliver_notification, "apply_async", lambda args, countdown: ids.append(*args))
    return ids


def create(key: str = "booking:1:booking_confirmed", **overrides) -> Notification | None:
    fields = {
        "kind": Kind.BOOKING_CONFIRMED,
        "phone": "+966501234567",
        "language": "en",
        "context": CONTEXT,
        "dedupe_key": key,
    }
    return notification_create(**{**fields, **overrides})


def test_a_row_is_enqueued_only_when_its_transaction_commits(enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = create()
        assert enqueued == []  # nothing leaves before the commit
    assert enqueued == [notification.id]
    assert notification.status == Status.PENDING
    assert (
        notification.body
        == "Your booking at Lamsa is confirmed: Haircut with Sara, Tuesday 1 December 2026, 16:30."
    )


def test_a_rolled_back_change_leaves_no_row_and_sends_nothing(enqueued, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        create()
        raise RuntimeError("the booking failed")
    assert enqueued == []
    assert not Notification.objects.exists()


def test_one_event_never_makes_two_rows(enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = create()
        second = create()
    assert first is not None and second is None
    assert Notification.objects.count() == 1
    assert enqueued == [first.id]


def test_a_duplicate_event_leaves_the_callers_transaction_usable(enqueued):
    with transaction.atomic():
        create()
        assert create() is None
        assert User.objects.count() == 0  # a query after the refused insert: the transaction lives on


def test_other_integrity_errors_are_not_mistaken_for_a_duplicate_event():
    # Only a taken dedupe key is let through quietly; any other refusal by the database still raises.
    with pytest.raises(IntegrityError, match="phone"):
        create(phone=None)


def test_a_row_is_written_in_one_statement_with_every_default_filled(django_assert_num_queries):
    with django_assert_num_queries(1):
        notification = create()
    stored = Notification.objects.get(pk=notification.pk)
    assert (stored.status, stored.attempts, stored.channel) == (Status.PENDING, 0, "sms")
    assert stored.created_at == notification.created_at
    assert stored.next_attempt_at <= stored.created_at <= stored.updated_at


def test_only_one_claim_wins():
    notification = create()
    assert notification_claim(notification_id=notification.id).attempts == 1
    assert notification_claim(notification_id=notification.id) is None


def test_rows_not_yet_due_sent_or_failed_are_not_claimed():
    later = create(
        "a",
    )
    Notification.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    sent = create("b")
    Notification.objects.filter(pk=sent.pk).update(status=Status.SENT)
    failed = create("c")
    Notification.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    for row in (later, sent, failed):
        assert notification_claim(notification_id=row.pk) is None


@override_settings(NOTIFICATION_STALE_SECONDS=300)
def test_a_row_left_sending_by_a_dead_worker_is_claimed_again_only_once_stale():
    notification = create()
    notification_claim(notification_id=notification.pk)
    Notification.objects.filter(pk=notification.pk).update(claimed_at=timezone.now() - timedelta(seconds=299))
    assert notification_claim(notification_id=notification.pk) is None
    Notification.objects.filter(pk=notification.pk).update(claimed_at=timezone.now() - timedelta(seconds=301))
    assert notification_claim(notification_id=notification.pk).attempts == 2


@override_settings(SMS_PROVIDER="console")
def test_delivery_records_the_provider_and_a_second_delivery_does_nothing():
    notification = create()
    assert notification_deliver(notification_id=notification.pk).status == "sent"
    notification.refresh_from_db()
    assert (notification.status, notification.provider, notification.attempts) == (Status.SENT, "console", 1)
    assert notification.sent_at is not None
    assert notification_deliver(notification_id=notification.pk).status == "skipped"


def _failing_with(monkeypatch, error: ProviderError) -> None:
    def fail(**_kwargs):
        raise error

    monkeypatch.setattr(channels, "message_send", fail)


@override_settings(NOTIFICATION_RETRY_BASE_DELAY_SECONDS=30, NOTIFICATION_RETRY_JITTER=0.25)
def test_a_retryable_failure_waits_its_backoff_then_retries(monkeypatch):
    _failing_with(monkeypatch, ProviderError("unifonic", "503 from provider", retryable=True, status=503))
    notification = create()
    before = timezone.now()
    outcome = notification_deliver(notification_id=notification.pk)
    assert outcome.status == "retry" and 22.5 <= outcome.retry_in <= 30
    notification.refresh_from_db()
    assert notification.status == Status.PENDING and notification.attempts == 1
    assert "503" in notification.last_error
    assert notification.next_attempt_at >= before + timedelta(seconds=22)
    assert notification_claim(notification_id=notification.pk) is None  # not due yet


def test_a_permanent_failure_fails_at_once(monkeypatch):
    _failing_with(
        monkeypatch, ProviderError("unifonic", "Dest num is too short", retryable=False, status=482)
    )
    notification = create()
    assert notification_deliver(notification_id=notification.pk).status == "failed"
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and notification.failed_at is not None
    assert notification.attempts == 1


@override_settings(NOTIFICATION_MAX_ATTEMPTS=3)
def test_retries_stop_at_the_limit_and_the_row_is_failed(monkeypatch):
    _failing_with(monkeypatch, ProviderError("authentica", "timed out", retryable=True))
    notification = create()
    outcomes = []
    for _ in range(3):
        outcomes.append(notification_deliver(notification_id=notification.pk).status)
        Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    assert outcomes == ["retry", "retry", "failed"]
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and notification.attempts == 3


@override_settings(NOTIFICATION_MAX_ATTEMPTS=2, NOTIFICATION_STALE_SECONDS=300)
def test_a_row_whose_last_attempt_died_with_its_worker_is_failed_not_retried_forever():
    notification = create()
    for _ in range(2):
        notification_claim(notification_id=notification.pk)
        Notification.objects.filter(pk=notification.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert notification_deliver(notification_id=notification.pk).status == "failed"
    notification.refresh_from_db()
    assert notification.last_error == "attempts exhausted"


def test_backoff_grows_is_capped_and_the_schedule_spans_at_least_30_minutes(settings):
    settings.NOTIFICATION_RETRY_JITTER = 0.0
    delays = [retry_delay_seconds(attempts=n) for n in range(1, settings.NOTIFICATION_MAX_ATTEMPTS)]
    assert delays == sorted(delays)
    assert max(delays) == settings.NOTIFICATION_RETRY_MAX_DELAY_SECONDS
    settings.NOTIFICATION_RETRY_JITTER = 0.25  # the default: the shortest schedule jitter can draw
    shortest = sum(d * 0.75 for d in delays)
    assert shortest >= 30 * 60, shortest


@override_settings(NOTIFICATION_SWEEP_AFTER_SECONDS=300, NOTIFICATION_STALE_SECONDS=300)
def test_the_sweep_re_enqueues_only_rows_whose_message_looks_lost(
    enqueued, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(minutes=10)
    lost = create("lost")
    stuck = create("stuck")
    waiting = create("waiting")  # just written: its message is on the queue
    retrying = create("retrying")
    delivered = create("delivered")
    Notification.objects.filter(pk__in=[lost.pk, stuck.pk, delivered.pk]).update(
        next_attempt_at=long_ago, enqueued_at=long_ago
    )
    Notification.objects.filter(pk=stuck.pk).update(status=Status.SENDING, claimed_at=long_ago)
    Notification.objects.filter(pk=delivered.pk).update(status=Status.SENT)
    Notification.objects.filter(pk=retrying.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5), enqueued_at=long_ago
    )
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_sweep() == 2
    assert sorted(enqueued) == sorted([lost.pk, stuck.pk])
    assert waiting.pk not in enqueued
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_sweep() == 0  # just re-enqueued: not lost again for a while


def test_ops_retry_gives_failed_rows_a_fresh_start(enqueued, django_capture_on_commit_callbacks):
    failed = create("failed")
    sent = create("sent")
    Notification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, attempts=10, failed_at=timezone.now()
    )
    Notification.objects.filter(pk=sent.pk).update(status=Status.SENT)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry(notification_ids=[failed.pk, sent.pk]) == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.failed_at) == (Status.PENDING, 0, None)
    assert enqueued == [failed.pk]


def test_delivery_stats_count_outcomes_and_the_oldest_undelivered_age():
    for key, status, attempts in [
        ("a", Status.SENT, 1),
        ("b", Status.SENT, 2),
        ("c", Status.FAILED, 3),
        ("d", Status.PENDING, 2),
        ("e", Status.PENDING, 0),
    ]:
        row = create(key)
        Notification.objects.filter(pk=row.pk).update(status=status, attempts=attempts)
    Notification.objects.filter(dedupe_key="e").update(created_at=timezone.now() - timedelta(minutes=7))
    stats = notification_delivery_stats()
    assert (stats.sent, stats.failed, stats.retrying, stats.pending) == (2, 1, 1, 2)
    assert 7 * 60 <= stats.oldest_pending_age_seconds < 8 * 60


def test_arabic_rendering_uses_arabic_text_month_names_and_the_salon_clock():
    moment = timezone.datetime(2026, 12, 1, 13, 30, tzinfo=ZoneInfo("UTC"))
    when = format_when(moment, tz=ZoneInfo("Asia/Riyadh"), language="ar")
    assert "16:30" in when and "ديسمبر" in when
    body = notification_render(
        kind=Kind.BOOKING_CANCELLED,
        language="ar",
        context={
            "salon": "لمسة",
            "service": "قص شعر",
            "staff": "سارة",
            "when": when,
            "refund": format_amount(7500, currency="SAR", language="ar"),
        },
    )
    assert body.startswith("تم إلغاء حجزك في لمسة") and "75.00 ر.س" in body
    assert format_amount(15000, currency="SAR", language="en") == "SAR 150.00"
    assert "December" in format_when(moment, tz=ZoneInfo("Asia/Riyadh"), language="en")


def test_every_kind_has_both_languages_and_renders():
    context = {**CONTEXT, "amount": "SAR 10.00", "until": "Monday 21:00"}
    for kind in Kind.values:
        for language in ("ar", "en"):
            assert notification_render(kind=kind, language=language, context=context)


def test_my_notifications_lists_only_the_callers_messages(api_client):
    me = User.objects.create_user("0501234567")
    other = User.objects.create_user("0551234567")
    mine = create("mine", recipient=me)
    create("theirs", recipient=other, phone="+966551234567")
    assert api_client.get("/api/v1/me/notifications/").status_code == 401
    api_client.force_authenticate(me)
    body = api_client.get("/api/v1/me/notifications/").json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == mine.pk and body["results"][0]["status"] == "pending"


def test_delivery_figures_are_for_platform_admins_only(api_client):
    api_client.force_authenticate(User.objects.create_user("0501234567"))
    assert api_client.get("/api/v1/ops/notifications/").status_code == 403
    api_client.force_authenticate(User.objects.create_superuser("0551234567"))
    response = api_client.get("/api/v1/ops/notifications/")
    assert response.status_code == 200 and set(response.json()) >= {"sent", "failed", "retrying"}


def test_admin_lists_with_figures_and_retries_failed_rows(client, enqueued):
    client.force_login(User.objects.create_superuser("0501234567", password="x"))
    failed = create("failed")
    Notification.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    page = client.get("/admin/notifications/notification/")
    assert page.status_code == 200 and b"failed" in page.content
    response = client.post(
        "/admin/notifications/notification/",
        {"action": "retry_failed", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status == Status.PENDING
