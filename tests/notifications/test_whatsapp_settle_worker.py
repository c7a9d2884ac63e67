"""A worker that died after WhatsApp accepted a message, then a real `celery worker` subprocess and the
sweep: the fake WhatsApp posts its signed statuses (echoing the row's callback data) to a live server, the
row is recorded sent from them instead of sent again; without a status it is sent again once, after the
grace; a `failed` status moves it on to SMS once."""

import time

import pytest
from django.test import override_settings

from backend.notifications.channels import channel_send
from backend.notifications.models import Notification, Status
from backend.notifications.services import notification_claim, notification_sweep
from tests.notifications.channel_support import apply_settings, channel_fakes, customer, message_to
from tests.notifications.test_delivery_worker import FAST_CLOCKS
from tests.support.processes import WorkerProcess, child_env
from tests.support.waiting import wait_until
from worker.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WEBHOOK = "/api/v1/notifications/webhooks/whatsapp/"
STALE, GRACE = 4, 6  # the worker's and this process's (the webhook and the sweep run here)
CLOCKS = {
    **FAST_CLOCKS,
    "NOTIFICATION_STALE_SECONDS": str(STALE),
    "WHATSAPP_STATUS_GRACE_SECONDS": str(GRACE),
}


@pytest.fixture
def fakes(settings, tmp_path, live_server):
    with (
        channel_fakes(tmp_path, webhook_url=live_server.url + WEBHOOK) as servers,
        override_settings(
            NOTIFICATION_STALE_SECONDS=STALE,
            NOTIFICATION_SWEEP_AFTER_SECONDS=2,
            WHATSAPP_STATUS_GRACE_SECONDS=GRACE,
        ),
    ):
        apply_settings(settings, servers)
        yield servers


@pytest.fixture
def worker(fakes):
    app.control.purge()
    process = WorkerProcess(queues="notifications", concurrency=2, env=child_env(**fakes.settings, **CLOCKS))
    yield process
    process.stop()


def dead_worker_sends(fakes, statuses: list[str]) -> tuple[Notification, float]:
    """A row claimed and sent on WhatsApp by a worker that died before recording it (Meta posts
    `statuses` at once); returns the row and when it was claimed."""
    fakes.whatsapp.configure(auto_statuses=statuses)
    row = message_to(customer(["whatsapp", "sms"]))
    app.control.purge()  # its delivery message died with that worker
    claimed = notification_claim(notification_id=row.pk)
    channel_send(claimed)
    assert fakes.whatsapp.wait_webhooks()
    return row, time.monotonic()


def settled(row: Notification) -> bool:
    notification_sweep()  # beat's job, every minute in production
    row.refresh_from_db()
    return row.status == Status.SENT


def test_a_status_before_the_stale_check_records_it_sent_without_a_second_message(fakes, worker):
    row, _ = dead_worker_sends(fakes, ["sent", "delivered"])
    row.refresh_from_db()
    assert row.status == Status.SENDING  # its worker might still have been recording it
    worker.start()
    assert wait_until(lambda: settled(row), timeout=40, interval=0.5)
    [message] = fakes.whatsapp.messages()
    assert (row.channel, row.provider, row.provider_message_id, row.provider_status) == (
        "whatsapp",
        "whatsapp",
        message["wamid"],
        "delivered",
    )
    time.sleep(2)
    assert len(fakes.whatsapp.messages()) == 1 and fakes.unifonic.messages() == []


def test_without_a_status_it_is_sent_again_once_after_the_grace(fakes, worker):
    row, claimed = dead_worker_sends(fakes, [])
    worker.start()
    while time.monotonic() < claimed + STALE + GRACE - 1.5:
        notification_sweep()
        assert len(fakes.whatsapp.messages()) == 1, "sent again within the grace"
        time.sleep(0.5)
    assert wait_until(lambda: settled(row), timeout=40, interval=0.5)
    first, second = fakes.whatsapp.messages()
    assert row.provider_message_id == second["wamid"] and first["callback_data"] == second["callback_data"]
    time.sleep(2)
    assert len(fakes.whatsapp.messages()) == 2 and fakes.unifonic.messages() == []


def test_a_failed_status_moves_it_on_to_sms_once(fakes, worker):
    row, _ = dead_worker_sends(fakes, ["failed"])
    worker.start()
    assert wait_until(lambda: settled(row) and row.channel == "sms", timeout=40, interval=0.5)
    time.sleep(2)
    assert (len(fakes.whatsapp.messages()), len(fakes.unifonic.messages())) == (1, 1)
    assert row.provider == "unifonic"
