"""A worker killed after WhatsApp accepted a message and before the row recorded it (issue 20): the row's
signed id travels as `biz_opaque_callback_data`, comes back in the statuses, and a row no live worker holds
is recorded sent from them instead of being sent again; with no status within the grace past staleness it
is sent again (never lost). In process, against the fake WhatsApp and Unifonic, time moved by hand."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from backend.notifications.channels import (
    channel_send,
    notification_id_from_callback,
    whatsapp_callback_data,
)
from backend.notifications.models import Notification, Status, WhatsAppStatus
from backend.notifications.services import (
    Delivery,
    notification_claim,
    notification_deliver,
    notification_sweep,
)
from backend.providers.whatsapp_webhook import sign
from tests.notifications.channel_support import WA_SECRET, apply_settings, channel_fakes, customer, message_to

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/webhooks/whatsapp/"
STALE, GRACE = 300, 60
CLOCKS = override_settings(
    NOTIFICATION_STALE_SECONDS=STALE, NOTIFICATION_SWEEP_AFTER_SECONDS=30, WHATSAPP_STATUS_GRACE_SECONDS=GRACE
)


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr("backend.notifications.services._enqueue_after_commit", ids.extend)
    return ids


@pytest.fixture
def fakes(settings, tmp_path, enqueued):
    with channel_fakes(tmp_path) as servers, CLOCKS:
        apply_settings(settings, servers)
        yield servers


def post_statuses(client, message: dict, *statuses: str) -> None:
    """Meta's status webhook for `message` (as the fake recorded it), echoing its callback data."""
    items = [
        {
            "id": message["wamid"],
            "status": status,
            "timestamp": "1767225600",
            "recipient_id": message["to"],
            "biz_opaque_callback_data": message["callback_data"],
            **({"errors": [{"code": 131026}]} if status == "failed" else {}),
        }
        for status in statuses
    ]
    body = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": items}}]}]}
    raw = json.dumps(body).encode()
    response = client.post(
        URL, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw, WA_SECRET)
    )
    assert response.status_code == 200


def dead_worker_sends(fakes, row: Notification) -> dict:
    """A worker claims the row and WhatsApp accepts its message; the worker dies before recording it."""
    claimed = notification_claim(notification_id=row.pk)
    assert claimed is not None
    channel_send(claimed)
    return fakes.whatsapp.messages()[-1]


def age(row: Notification, seconds: float) -> None:
    """The row was claimed `seconds` ago."""
    Notification.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(seconds=seconds))


def test_the_callback_data_is_the_signed_row_id():
    data = whatsapp_callback_data(42)
    assert len(data) <= 512 and data.startswith("notification-42:")
    assert notification_id_from_callback(data) == 42
    assert notification_id_from_callback(data.replace("42", "43", 1)) is None  # tampered
    assert notification_id_from_callback("notification-42") is None  # unsigned (another deployment)
    assert notification_id_from_callback("") is None
    with override_settings(SECRET_KEY="another-deployment-" + "x" * 40):
        assert notification_id_from_callback(data) is None


@pytest.mark.parametrize("value", ["-1", "601", "soon"])
def test_the_grace_is_checked_at_start(monkeypatch, value):
    import importlib

    import config.settings

    monkeypatch.setenv("WHATSAPP_STATUS_GRACE_SECONDS", value)
    with pytest.raises(ImproperlyConfigured if value != "soon" else ValueError):
        importlib.reload(config.settings)
    monkeypatch.setenv("WHATSAPP_STATUS_GRACE_SECONDS", "0")
    assert importlib.reload(config.settings).WHATSAPP_STATUS_GRACE_SECONDS == 0
    monkeypatch.delenv("WHATSAPP_STATUS_GRACE_SECONDS")
    assert importlib.reload(config.settings).WHATSAPP_STATUS_GRACE_SECONDS == 60


def test_every_whatsapp_message_carries_its_row_and_statuses_keep_it(api_client, fakes):
    row = message_to(customer(["whatsapp", "sms"]))
    assert notification_deliver(notification_id=row.pk).status == Delivery.SENT
    [message] = fakes.whatsapp.messages()
    assert notification_id_from_callback(message["callback_data"]) == row.pk
    post_statuses(api_client, message, "sent")
    assert list(WhatsAppStatus.objects.values_list("wamid", "notification_id")) == [
        (message["wamid"], row.pk)
    ]


def test_a_status_without_callback_data_is_kept_without_a_row(api_client, fakes):
    row = message_to(customer(["whatsapp", "sms"]))
    message = dead_worker_sends(fakes, row)
    age(row, STALE + 1)
    post_statuses(api_client, {**message, "callback_data": f"notification-{row.pk}"}, "sent")  # unsigned
    assert WhatsAppStatus.objects.get().notification_id is None
    row.refresh_from_db()
    assert row.status == Status.SENDING


def test_a_stale_row_is_claimed_again_only_after_the_grace(fakes):
    whatsapp_row = message_to(customer(["whatsapp", "sms"]))
    sms_row = message_to(customer(["sms"], phone="+966501234568"), key="booking:2:booking_confirmed")
    for row in (whatsapp_row, sms_row):
        assert notification_claim(notification_id=row.pk) is not None
        age(row, STALE + 1)
    assert notification_claim(notification_id=sms_row.pk) is not None  # SMS: at staleness, as before
    assert notification_claim(notification_id=whatsapp_row.pk) is None
    Notification.objects.filter(pk=whatsapp_row.pk).update(enqueued_at=F("claimed_at"))
    assert notification_sweep() == 0  # nor re-enqueued
    age(whatsapp_row, STALE + GRACE + 1)
    assert notification_sweep() == 1
    assert notification_claim(notification_id=whatsapp_row.pk) is not None


def test_a_status_of_a_live_workers_message_is_left_to_that_worker(api_client, fakes):
    row = message_to(customer(["whatsapp", "sms"]))
    message = dead_worker_sends(fakes, row)  # still within staleness: its worker may be recording it
    post_statuses(api_client, message, "sent", "delivered")
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (Status.SENDING, "")


def test_a_row_moved_onto_whatsapp_records_it_before_the_call(fakes, monkeypatch):
    """Push cannot carry it (no device): the row says WhatsApp before WhatsApp is called, so a worker
    killed during that call leaves a row the grace and the statuses apply to."""
    seen: list[str] = []

    def record_channel(**options):
        seen.append(Notification.objects.get(pk=row.pk).channel)
        raise ConnectionError("killed")

    row = message_to(customer(["push", "whatsapp", "sms"]))
    monkeypatch.setattr("backend.providers.whatsapp.send_template", record_channel)
    with pytest.raises(ConnectionError):
        notification_deliver(notification_id=row.pk)
    assert seen == ["whatsapp"]


# --- never lost, never twice when Meta spoke in time: every status and every moment it may arrive ----

OUTCOMES = ("sent", "delivered", "read", "failed", None)  # the status Meta reports (None: none)
ARRIVALS = ("before staleness", "during the grace", "after the resend")


@pytest.mark.parametrize("arrival", ARRIVALS)
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_dead_workers_message_is_never_lost_and_sent_twice_only_without_a_timely_status(
    api_client, fakes, enqueued, outcome, arrival
):
    row = message_to(customer(["whatsapp", "sms"]))
    enqueued.clear()
    first = dead_worker_sends(fakes, row)

    def meta_reports(moment: str) -> None:
        if outcome is not None and arrival == moment:
            for _ in range(2):  # Meta repeats webhooks
                post_statuses(api_client, first, *(["sent", outcome] if outcome != "sent" else ["sent"]))

    meta_reports("before staleness")
    age(row, STALE + GRACE / 2)
    meta_reports("during the grace")
    assert notification_deliver(notification_id=row.pk).status in (Delivery.SKIPPED, Delivery.SENT)
    assert len(fakes.whatsapp.messages()) == 1  # never resent within the grace
    age(row, STALE + GRACE + 1)
    notification_deliver(notification_id=row.pk)
    meta_reports("after the resend")
    while enqueued:  # a failed status moved the row on: the next channel's delivery
        notification_deliver(notification_id=enqueued.pop(0))

    row.refresh_from_db()
    whatsapp, sms = len(fakes.whatsapp.messages()), len(fakes.unifonic.messages())
    assert row.status == Status.SENT and whatsapp + sms >= 1  # never lost
    timely = outcome is not None and arrival != "after the resend"
    if not timely:  # no word from Meta in time: sent again, once, and the row names the second message
        assert (whatsapp, sms, row.channel) == (2, 0, "whatsapp")
        assert row.provider_message_id == fakes.whatsapp.messages()[1]["wamid"]
    elif outcome == "failed":  # WhatsApp could not deliver it: the next channel, once
        assert (whatsapp, sms, row.channel, row.provider) == (1, 1, "sms", "unifonic")
    else:  # recorded sent from Meta's word: no second message
        assert (whatsapp, sms, row.channel, row.provider) == (1, 0, "whatsapp", "whatsapp")
        assert (row.provider_message_id, row.provider_status) == (first["wamid"], outcome)


def test_a_settled_row_takes_statuses_out_of_order_and_replayed_as_before(api_client, fakes, enqueued):
    row = message_to(customer(["whatsapp", "sms"]))
    enqueued.clear()
    first = dead_worker_sends(fakes, row)
    age(row, STALE + 1)
    post_statuses(api_client, first, "delivered")  # settles the stale row
    for statuses in (
        ["sent"],
        ["delivered"],
        ["failed"],
        ["read"],
        ["delivered"],
    ):  # late, repeated, out of order
        post_statuses(api_client, first, *statuses)
    row.refresh_from_db()
    assert (row.status, row.channel, row.provider_message_id, row.provider_status) == (
        Status.SENT,
        "whatsapp",
        first["wamid"],
        "read",
    )
    assert enqueued == [] and len(fakes.whatsapp.messages()) == 1
