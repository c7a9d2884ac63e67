"""The task wrappers run in this process, as the worker's tracer runs them: what each returns, how a delivery
asks Celery for a retry, and the request id bound around a task. The queue itself (routing, acks, a
message reaching a worker) is proven with real worker processes in test_celery_app.py and the
notification, payment and retention tests; nothing here sets eager mode."""

from datetime import datetime, timedelta

import pytest
from celery.app.trace import build_tracer
from celery.exceptions import Retry
from django.core.cache import cache
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.core.request_id import bind_request_id, current_request_id, unbind_request_id
from backend.core.services import HEARTBEAT_CACHE_KEY
from backend.fakes import FakeUnifonic
from backend.notifications.models import Kind, Notification, Status
from backend.notifications.services import notification_create
from tests.support.factories import make_booking, make_salon, make_service, make_staff
from worker.celery import app
from worker.tasks.bookings import expire_holds, write_reminders
from worker.tasks.core import echo, heartbeat
from worker.tasks.notifications import deliver_notification, sweep_notifications

pytestmark = pytest.mark.django_db

CONTEXT = {"salon": "Lamsa", "service": "Haircut", "staff": "Sara", "when": "Tuesday 1 December 2026, 16:30"}


def outbox_row(key: str = "booking:1:booking_confirmed") -> Notification:
    """A committed-looking pending row; the test's transaction never commits, so nothing is enqueued."""
    return notification_create(
        kind=Kind.BOOKING_CONFIRMED, phone="+966501234567", language="en", context=CONTEXT, dedupe_key=key
    )


def trace(task, *args, request: dict | None = None):
    """Runs `task` as a worker does after reading its message: through Celery's tracer, with the
    message's headers as the task's request, so task_prerun and task_postrun fire around it."""
    tracer = build_tracer(task.name, task, app=app, eager=True, propagate=True)
    return tracer("task-1", args, {}, {"id": "task-1", **(request or {})}).retval


# --- notifications ----------------------------------------------------------------------------------
def test_a_delivery_returns_the_rows_outcome(settings):
    settings.SMS_PROVIDER = "console"
    row = outbox_row()
    assert deliver_notification.run(row.id) == "sent"
    assert Notification.objects.get(pk=row.pk).status == Status.SENT
    assert deliver_notification.run(row.id) == "skipped"  # sent already: never twice


def test_a_delivery_the_provider_asks_to_retry_raises_celerys_retry_with_the_rows_delay(settings):
    settings.NOTIFICATION_RETRY_BASE_DELAY_SECONDS = 7
    settings.NOTIFICATION_RETRY_JITTER = 0
    with FakeUnifonic(app_sid="sid-1") as unifonic:
        settings.SMS_PROVIDER = "unifonic"
        settings.UNIFONIC_BASE_URL = unifonic.url
        settings.UNIFONIC_APP_SID = "sid-1"
        unifonic.fail_next(1, status=503)
        row = outbox_row()
        # The request a worker gives the task (not a direct call); is_eager: the retry is not published.
        deliver_notification.push_request(
            id="task-1", args=(row.id,), kwargs={}, retries=0, called_directly=False, is_eager=True
        )
        try:
            with pytest.raises(Retry) as raised:
                deliver_notification.run(row.id)
        finally:
            deliver_notification.pop_request()
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1
    assert raised.value.when == 7 == (row.next_attempt_at - row.enqueued_at).total_seconds()
    assert raised.value.sig.args == (row.id,)  # the same delivery, again


def test_the_sweep_returns_how_many_lost_rows_it_re_enqueued(settings):
    lost, fresh = outbox_row("lost"), outbox_row("fresh")
    long_ago = timezone.now() - timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS + 60)
    Notification.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago, enqueued_at=long_ago)
    assert sweep_notifications.run() == 1
    assert Notification.objects.get(pk=lost.pk).enqueued_at > long_ago
    assert Notification.objects.get(pk=fresh.pk).enqueued_at == fresh.enqueued_at
    assert sweep_notifications.run() == 0  # just re-enqueued: not lost again yet


# --- bookings ---------------------------------------------------------------------------------------
def test_expire_holds_returns_how_many_holds_it_released():
    service = make_service(make_salon())
    staff = make_staff(service.salon, services=[service])
    now = timezone.now()
    overdue = make_booking(
        service=service,
        staff=staff,
        start=now + timedelta(days=2),
        status=BookingStatus.PENDING_PAYMENT,
        hold_expires_at=now - timedelta(minutes=1),
    )
    held = make_booking(
        service=service,
        staff=staff,
        start=now + timedelta(days=3),
        status=BookingStatus.PENDING_PAYMENT,
        hold_expires_at=now + timedelta(minutes=10),
    )
    assert expire_holds.run() == 1
    assert Booking.objects.get(pk=overdue.pk).status == BookingStatus.EXPIRED
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.PENDING_PAYMENT
    assert expire_holds.run() == 0


def test_write_reminders_returns_how_many_reminders_it_wrote():
    service = make_service(make_salon())
    staff = make_staff(service.salon, services=[service])
    now = timezone.now()
    booking = make_booking(
        service=service, staff=staff, start=now + timedelta(hours=23), scheduled_at=now - timedelta(days=5)
    )
    assert write_reminders.run() == 1
    assert Notification.objects.get().dedupe_key == (
        f"booking:{booking.id}:reminder_24h:{booking.start.isoformat()}"
    )
    assert write_reminders.run() == 0  # written once


# --- core and the request id ------------------------------------------------------------------------
def test_heartbeat_records_when_beat_last_ran():
    before = timezone.now()
    heartbeat.run()
    seen = cache.get(HEARTBEAT_CACHE_KEY)
    assert before <= datetime.fromisoformat(seen) <= timezone.now()


def test_a_task_runs_under_the_request_id_it_was_enqueued_with_and_drops_it_after():
    assert trace(echo, "x", request={"request_id": "req-42"}) == {"value": "x", "request_id": "req-42"}
    assert current_request_id() is None


def test_a_task_without_a_request_id_does_not_inherit_one_and_restores_the_callers():
    token = bind_request_id("outer")
    try:
        assert trace(echo, "x") == {"value": "x", "request_id": None}
        assert current_request_id() == "outer"
    finally:
        unbind_request_id(token)


def test_echo_called_directly_reports_the_current_request_id():
    token = bind_request_id("req-7")
    try:
        assert echo.run("مرحبا") == {"value": "مرحبا", "request_id": "req-7"}
    finally:
        unbind_request_id(token)
