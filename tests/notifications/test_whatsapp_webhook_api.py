"""POST/GET /notifications/webhooks/whatsapp/ in process: the signature over the raw body, the
subscription challenge, and statuses applied once, forward only, in any order, including statuses that
arrive before the worker recorded the message id."""

import json

import pytest

from backend.notifications.models import Notification, Status, WhatsAppStatus
from backend.notifications.services import notification_deliver
from backend.notifications.whatsapp_status import whatsapp_statuses_apply
from backend.providers.whatsapp_webhook import sign
from tests.accounts.support import error_of
from tests.notifications.channel_support import WA_SECRET, apply_settings, channel_fakes, customer, message_to

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/webhooks/whatsapp/"


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr("backend.notifications.services._enqueue_after_commit", ids.extend)
    return ids


@pytest.fixture
def fakes(settings, tmp_path, enqueued):
    with channel_fakes(tmp_path) as servers:
        apply_settings(settings, servers)
        settings.WHATSAPP_VERIFY_TOKEN = "verify-me"
        yield servers


def payload(wamid: str, *statuses: str, codes=(131026,)) -> dict:
    items = [
        {
            "id": wamid,
            "status": status,
            "timestamp": "1767225600",
            "recipient_id": "966501234567",
            **({"errors": [{"code": code} for code in codes]} if status == "failed" else {}),
        }
        for status in statuses
    ]
    return {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": {"statuses": items}}]}],
    }


def post(client, body: dict, secret: str = WA_SECRET):
    raw = json.dumps(body).encode()
    return client.post(URL, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw, secret))


def sent_on_whatsapp(fakes) -> Notification:
    row = message_to(customer(["whatsapp", "sms"]))
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.channel) == (Status.SENT, "whatsapp")
    return row


def test_a_wrong_or_missing_signature_is_401(api_client, fakes):
    error_of(post(api_client, payload("wamid.1", "sent"), secret="not-ours"), 401, "webhook_unauthorized")
    response = api_client.post(URL, {"entry": []}, format="json")
    error_of(response, 401, "webhook_unauthorized")
    assert not WhatsAppStatus.objects.exists()


def test_a_signed_body_that_is_not_json_is_400(api_client, fakes):
    raw = b"{not json"
    response = api_client.post(
        URL, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw, WA_SECRET)
    )
    error_of(response, 400, "parse_error")


def test_the_subscription_challenge(api_client, fakes):
    ok = api_client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "123"}
    )
    assert ok.status_code == 200 and ok.content == b"123" and ok["Content-Type"].startswith("text/plain")
    wrong = api_client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    error_of(wrong, 403, "webhook_unauthorized")


def test_delivered_then_read_are_recorded(api_client, fakes, enqueued):
    row = sent_on_whatsapp(fakes)
    enqueued.clear()
    assert post(api_client, payload(row.provider_message_id, "sent", "delivered")).json() == {"received": 2}
    assert post(api_client, payload(row.provider_message_id, "read", "delivered")).status_code == 200
    row.refresh_from_db()
    assert (row.status, row.provider_status, row.channel) == (Status.SENT, "read", "whatsapp")
    assert enqueued == []


def test_failed_moves_the_message_on_once_and_a_late_delivered_changes_nothing(api_client, fakes, enqueued):
    row = sent_on_whatsapp(fakes)
    enqueued.clear()
    for _ in range(2):  # Meta may repeat a webhook
        post(api_client, payload(row.provider_message_id, "failed"))
    post(api_client, payload(row.provider_message_id, "delivered"))
    row.refresh_from_db()
    assert (row.status, row.channel, row.provider_status, row.attempts) == (
        Status.PENDING,
        "sms",
        "failed",
        0,
    )
    assert "131026" in row.last_error and row.sent_at is None
    assert enqueued == [row.pk]
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.channel, row.provider, row.provider_status) == (
        Status.SENT,
        "sms",
        "unifonic",
        "",
    )
    assert len(fakes.unifonic.messages()) == 1


def test_failed_after_delivered_is_ignored(api_client, fakes, enqueued):
    row = sent_on_whatsapp(fakes)
    post(api_client, payload(row.provider_message_id, "delivered", "failed"))
    row.refresh_from_db()
    assert (row.status, row.channel, row.provider_status) == (Status.SENT, "whatsapp", "delivered")


def test_failed_on_the_last_channel_fails_the_row(fakes):
    row = sent_on_whatsapp(fakes)
    Notification.objects.filter(pk=row.pk).update(channels=["whatsapp"])
    WhatsAppStatus.objects.create(wamid=row.provider_message_id, status="failed", error_codes=[])
    assert whatsapp_statuses_apply(wamid=row.provider_message_id) is True
    row.refresh_from_db()
    assert (row.status, row.provider_status) == (Status.FAILED, "failed")
    assert "no code" in row.last_error


def test_a_status_before_the_message_id_is_known_is_applied_by_the_worker(api_client, fakes, monkeypatch):
    wamid = "wamid.EARLY"
    assert post(api_client, payload(wamid, "failed")).json() == {"received": 1}
    assert whatsapp_statuses_apply(wamid=wamid) is False  # no row holds it yet
    # The provider answers the send with that wamid after the webhook was stored.
    from backend.providers import whatsapp

    real = whatsapp.send_template

    def answered_late(**options):
        result = real(**options)
        return type(result)(provider=result.provider, message_id=wamid, raw=result.raw)

    monkeypatch.setattr(whatsapp, "send_template", answered_late)
    row = message_to(customer(["whatsapp", "sms"]))
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.channel, row.provider_status) == (Status.PENDING, "sms", "failed")


def test_unknown_and_malformed_statuses_are_received_and_ignored(api_client, fakes):
    row = sent_on_whatsapp(fakes)
    body = payload(row.provider_message_id, "deleted")
    body["entry"].append({"changes": [{"field": "account_update", "value": {}}]})
    assert post(api_client, body).json() == {"received": 1}
    assert post(api_client, ["not", "an", "object"]).json() == {"received": 0}
    row.refresh_from_db()
    assert row.provider_status == ""


def test_ids_and_statuses_too_long_to_be_metas_are_ignored(api_client, fakes):
    assert post(api_client, payload("w" * 129, "sent")).json() == {"received": 1}
    assert post(api_client, payload("wamid.1", "s" * 17)).json() == {"received": 1}
    assert not WhatsAppStatus.objects.exists()


def test_old_statuses_are_purged_by_retention(fakes):
    from datetime import timedelta

    from django.utils import timezone

    from worker.tasks.retention import purge_notification_bodies

    WhatsAppStatus.objects.create(wamid="wamid.old", status="read")
    WhatsAppStatus.objects.create(wamid="wamid.new", status="read")
    WhatsAppStatus.objects.filter(wamid="wamid.old").update(received_at=timezone.now() - timedelta(days=31))
    assert purge_notification_bodies() == 1
    assert list(WhatsAppStatus.objects.values_list("wamid", flat=True)) == ["wamid.new"]
