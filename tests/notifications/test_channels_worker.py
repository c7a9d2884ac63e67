"""Each channel end to end with a real `celery worker` subprocess on the real Redis, rows in PostgreSQL
and the real FCM, WhatsApp and Unifonic clients talking HTTP to the fakes: success, a permanent failure
that falls through to the next channel once, a retryable failure that retries on the same channel and
delivers once, and WhatsApp's status webhook (a live server) moving a failed message on to SMS."""

import pytest
from django.test import override_settings

from backend.notifications.models import Device, Notification, Status
from backend.providers.whatsapp_webhook import sign
from tests.notifications.channel_support import apply_settings, channel_fakes, customer, message_to
from tests.notifications.test_delivery_worker import FAST_CLOCKS
from tests.support.processes import WorkerProcess, child_env
from tests.support.waiting import wait_until
from worker.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WEBHOOK = "/api/v1/notifications/webhooks/whatsapp/"


@pytest.fixture
def fakes(settings, tmp_path, live_server):
    with channel_fakes(tmp_path, webhook_url=live_server.url + WEBHOOK) as servers:
        apply_settings(settings, servers)
        yield servers


@pytest.fixture
def worker(fakes):
    app.control.purge()
    process = WorkerProcess(
        queues="notifications", concurrency=4, env=child_env(**fakes.settings, **FAST_CLOCKS)
    ).start()
    yield process
    process.stop()


def finished(row: Notification, status: str = Status.SENT) -> bool:
    row.refresh_from_db()
    return row.status == status


def sent_by(fakes) -> dict[str, int]:
    return {
        "push": len(fakes.fcm.messages()),
        "whatsapp": len(fakes.whatsapp.messages()),
        "sms": len(fakes.unifonic.messages()),
    }


def test_push_delivers_once(worker, fakes):
    row = message_to(customer(["push", "sms"], devices=("device-1",)))
    assert wait_until(lambda: finished(row), timeout=20)
    assert sent_by(fakes) == {"push": 1, "whatsapp": 0, "sms": 0}
    assert (row.channel, row.provider, row.attempts) == ("push", "fcm", 1)
    assert row.provider_message_id == fakes.fcm.messages()[0]["name"]
    assert fakes.fcm.messages()[0]["message"]["notification"]["title"] == "Booking confirmed"


def test_an_unregistered_device_is_deleted_and_sms_sends_once(worker, fakes):
    user = customer(["push", "sms"], devices=("device-gone",))
    fakes.fcm.unregister("device-gone")
    row = message_to(user)
    assert wait_until(lambda: finished(row), timeout=20)
    assert sent_by(fakes) == {"push": 0, "whatsapp": 0, "sms": 1}
    assert row.channel == "sms" and row.provider == "unifonic"
    assert not Device.objects.filter(user=user).exists()


def test_no_device_goes_straight_to_sms(worker, fakes):
    row = message_to(customer(["push", "sms"]))
    assert wait_until(lambda: finished(row), timeout=20)
    assert sent_by(fakes) == {"push": 0, "whatsapp": 0, "sms": 1}
    assert len(fakes.fcm.journal()) == 0


def test_push_quota_retries_after_its_retry_after_and_delivers_once(worker, fakes):
    fakes.fcm.configure(quota_exceeded_next=2, retry_after_seconds=1)
    row = message_to(customer(["push", "sms"], devices=("device-1",)))
    assert wait_until(lambda: finished(row), timeout=40)
    assert sent_by(fakes) == {"push": 1, "whatsapp": 0, "sms": 0}
    assert row.attempts == 3 and row.channel == "push"


def test_whatsapp_delivers_once_with_the_template(worker, fakes):
    row = message_to(customer(["whatsapp", "sms"]))
    assert wait_until(lambda: finished(row), timeout=20)
    assert sent_by(fakes) == {"push": 0, "whatsapp": 1, "sms": 0}
    [message] = fakes.whatsapp.messages()
    assert message["template"] == "booking_confirmed_v1" and message["language"] == "en"
    assert message["parameters"] == ["Lamsa", "Haircut", "Sara", "Tuesday 16:30"]
    assert (row.channel, row.provider, row.provider_message_id) == ("whatsapp", "whatsapp", message["wamid"])


def test_a_number_not_on_whatsapp_falls_through_to_sms_once(worker, fakes):
    fakes.whatsapp.configure(not_on_whatsapp=["966501234567"])
    row = message_to(customer(["whatsapp", "push", "sms"]))  # push: no device either
    assert wait_until(lambda: finished(row), timeout=20)
    assert sent_by(fakes) == {"push": 0, "whatsapp": 0, "sms": 1}
    assert row.channel == "sms"


def test_whatsapp_rate_limit_retries_and_delivers_once(worker, fakes):
    fakes.whatsapp.configure(rate_limit_next=2)
    row = message_to(customer(["whatsapp", "sms"]))
    assert wait_until(lambda: finished(row), timeout=40)
    assert sent_by(fakes) == {"push": 0, "whatsapp": 1, "sms": 0}
    assert row.attempts == 3


def test_a_failed_status_webhook_moves_the_message_to_sms_once(worker, fakes):
    row = message_to(customer(["whatsapp", "sms"]))
    assert wait_until(lambda: finished(row), timeout=20)
    wamid = row.provider_message_id
    # failed, repeated, then a late delivered: the message moves on once and stays moved.
    fakes.whatsapp.deliver_statuses(wamid, ["sent", "failed", "failed", "delivered"])
    assert wait_until(lambda: finished(row) and row.channel == "sms", timeout=20)
    assert sent_by(fakes) == {"push": 0, "whatsapp": 1, "sms": 1}
    assert [delivery["status"] for delivery in fakes.whatsapp.webhooks()] == [200, 200, 200, 200]
    assert row.provider == "unifonic" and row.provider_status == ""


def test_statuses_that_arrive_before_the_row_knows_its_message_id_are_applied(worker, fakes):
    fakes.whatsapp.configure(auto_statuses=["failed"], latency_ms=0)
    row = message_to(customer(["whatsapp", "sms"]))
    assert wait_until(lambda: finished(row) and row.channel == "sms", timeout=20)
    assert fakes.whatsapp.wait_webhooks()
    assert sent_by(fakes) == {"push": 0, "whatsapp": 1, "sms": 1}


@override_settings(WHATSAPP_APP_SECRET="wa-app-secret")
def test_the_webhook_refuses_a_wrong_signature_over_http(live_server, fakes):
    import requests

    body = b'{"entry": []}'
    refused = requests.post(
        live_server.url + WEBHOOK,
        data=body,
        headers={"X-Hub-Signature-256": sign(body, "other"), "Content-Type": "application/json"},
        timeout=5,
    )
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "webhook_unauthorized"
    assert fakes.whatsapp.subscribe("wrong")["verified"] is False


@override_settings(
    NOTIFICATION_STALE_SECONDS=4, NOTIFICATION_SWEEP_AFTER_SECONDS=2, WHATSAPP_STATUS_GRACE_SECONDS=2
)
def test_a_worker_killed_mid_run_sends_each_message_on_one_channel(fakes):
    """SIGKILL while push, WhatsApp and fallthrough-to-SMS messages are queued and in flight, then a new
    worker and the sweep: every row is sent, on exactly one channel (never also by SMS), and the only
    repeats are calls in flight at the kill, on the channel they were made on."""
    from collections import Counter

    from backend.notifications.services import notification_sweep

    app.control.purge()
    for fake in (fakes.fcm, fakes.whatsapp, fakes.unifonic):
        fake.latency_ms = 300
    rows = []
    for n in range(24):
        phone = f"+96650{3000000 + n:07d}"
        if n % 3 == 0:
            user = customer(["push", "sms"], devices=(f"device-{n}",), phone=phone)
        elif n % 3 == 1:
            user = customer(["whatsapp", "sms"], phone=phone)
        else:
            user = customer(["push", "sms"], devices=(f"gone-{n}",), phone=phone)
            fakes.fcm.unregister(f"gone-{n}")
        rows.append(message_to(user, key=f"kill:{n}"))
    env = child_env(**fakes.settings, **FAST_CLOCKS)
    first = WorkerProcess(queues="notifications", concurrency=4, env=env).start()
    assert wait_until(lambda: Notification.objects.filter(status=Status.SENT).count() >= 4, timeout=30)
    first.kill()
    in_flight = Notification.objects.filter(status=Status.SENDING).count()
    assert Notification.objects.filter(status=Status.SENT).count() < len(rows), "the kill came too late"
    second = WorkerProcess(queues="notifications", concurrency=4, env=env).start()
    try:
        assert wait_until(
            lambda: (
                notification_sweep() >= 0
                and Notification.objects.filter(status=Status.SENT).count() == len(rows)
            ),
            timeout=90,
            interval=1,
        )
    finally:
        second.stop()
    pushes = Counter(message["message"]["data"]["notification_id"] for message in fakes.fcm.messages())
    whatsapps = Counter(message["to"] for message in fakes.whatsapp.messages())
    texts = Counter(message["CorrelationID"] for message in fakes.unifonic.messages())
    repeats = 0
    for row in Notification.objects.filter(pk__in=[row.pk for row in rows]):
        counts = {
            "push": pushes[str(row.pk)],
            "whatsapp": whatsapps[row.phone.lstrip("+")],
            "sms": texts[str(row.pk)],
        }
        assert {channel for channel, count in counts.items() if count} == {row.channel}, (row.pk, counts)
        repeats += counts[row.channel] - 1
    assert repeats <= in_flight <= 4
    assert sorted({row.channel for row in Notification.objects.all()}) == ["push", "sms", "whatsapp"]
