"""Channel choice and fallthrough in process, with the real clients against the fakes over HTTP: what
each channel needs, how a row moves on, what a retry waits for, and a lost claim. The same with real
workers: test_channels_worker.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.core.http import ProviderError
from backend.notifications import channels as channels_module
from backend.notifications.channels import channel_send, next_channel
from backend.notifications.models import Device, Notification, Status
from backend.notifications.preferences import channels_for, channels_normalise
from backend.notifications.services import notification_deliver
from backend.providers.base import RecipientUnreachable
from tests.notifications.channel_support import apply_settings, channel_fakes, customer, message_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes(settings, tmp_path, monkeypatch):
    monkeypatch.setattr("backend.notifications.services._enqueue_after_commit", lambda ids: None)
    with channel_fakes(tmp_path) as servers:
        apply_settings(settings, servers)
        yield servers


def deliver(row: Notification) -> Notification:
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    return row


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ([], ["sms"]),
        (["sms", "push"], ["push", "sms"]),
        (["whatsapp", "whatsapp", "push"], ["whatsapp", "push", "sms"]),
        (["push", "sms", "whatsapp", "sms"], ["push", "whatsapp", "sms"]),
    ],
)
def test_a_preference_is_normalised_with_sms_last(given, stored):
    assert channels_normalise(given) == stored


def test_channels_of_a_row_follow_the_recipient():
    assert channels_for(None) == ["sms"]
    assert channels_for(customer(["whatsapp"])) == ["whatsapp", "sms"]


def test_next_channel_walks_the_preference_and_ends():
    row = Notification(channel="push", channels=["push", "whatsapp", "sms"])
    assert next_channel(row) == "whatsapp"
    row.channel = "sms"
    assert next_channel(row) is None
    assert next_channel(Notification(channel="sms", channels=[])) is None  # rows from before channels


def test_a_row_starts_on_the_first_channel_with_its_context(fakes):
    row = message_to(customer(["whatsapp", "push"]))
    assert (row.channel, row.channels) == ("whatsapp", ["whatsapp", "push", "sms"])
    assert row.context["salon"] == "Lamsa"


def test_push_sends_to_the_newest_device_and_skips_a_gone_one(fakes):
    user = customer(["push", "sms"], devices=("old-device", "new-device"))
    Device.objects.filter(token="old-device").update(updated_at=timezone.now() - timedelta(days=1))
    fakes.fcm.unregister("new-device")
    row = deliver(message_to(user))
    assert (row.status, row.channel, row.provider) == (Status.SENT, "push", "fcm")
    [sent] = fakes.fcm.messages()
    assert sent["message"]["token"] == "old-device"
    assert sent["message"]["data"] == {"kind": "booking_confirmed", "notification_id": str(row.pk)}
    assert sent["android_tag"] == sent["apns_collapse_id"] == f"notification-{row.pk}"
    assert list(Device.objects.values_list("token", flat=True)) == ["old-device"]


def test_push_in_arabic_has_an_arabic_title(fakes):
    user = customer(["push"], devices=("device-1",))
    user.language = "ar"
    user.save()
    deliver(message_to(user))
    assert fakes.fcm.messages()[0]["message"]["notification"]["title"] == "تأكيد الحجز"


def test_push_without_fcm_settings_moves_on_without_a_call(fakes, settings):
    settings.FCM_PROJECT_ID = ""
    row = deliver(message_to(customer(["push", "sms"], devices=("device-1",))))
    assert (row.status, row.channel) == (Status.SENT, "sms")
    assert fakes.fcm.journal() == [] and len(fakes.unifonic.messages()) == 1
    assert row.attempts == 1


def test_a_refused_push_configuration_falls_through_to_sms(fakes):
    fakes.fcm.configure(token_errors={"device-1": "SENDER_ID_MISMATCH"})
    row = deliver(message_to(customer(["push", "sms"], devices=("device-1",))))
    assert (row.status, row.channel) == (Status.SENT, "sms")
    assert Device.objects.filter(token="device-1").exists()  # not the device's fault: kept


def test_whatsapp_without_a_template_for_the_kind_moves_on(fakes, settings):
    settings.WHATSAPP_TEMPLATES = {}
    row = deliver(message_to(customer(["whatsapp", "sms"])))
    assert (row.status, row.channel) == (Status.SENT, "sms")
    assert fakes.whatsapp.journal() == []


def test_whatsapp_then_push_then_sms(fakes):
    fakes.whatsapp.configure(not_on_whatsapp=["966501234567"])
    row = deliver(message_to(customer(["whatsapp", "push", "sms"])))
    assert (row.status, row.channel, row.attempts) == (Status.SENT, "sms", 1)
    assert len(fakes.whatsapp.journal()) == 1 and len(fakes.unifonic.messages()) == 1


def test_a_retryable_failure_stays_on_its_channel_and_honours_retry_after(fakes):
    fakes.fcm.configure(quota_exceeded_next=1, retry_after_seconds=3000)
    before = timezone.now()
    row = deliver(message_to(customer(["push", "sms"], devices=("device-1",))))
    assert (row.status, row.channel, row.attempts) == (Status.PENDING, "push", 1)
    assert row.next_attempt_at >= before + timedelta(seconds=3000)
    assert fakes.unifonic.messages() == []


def test_the_last_channels_permanent_failure_fails_the_row(fakes):
    fakes.unifonic.fail_next(1, status=400)
    row = deliver(message_to(customer(["push", "sms"])))
    assert (row.status, row.channel) == (Status.FAILED, "sms")
    assert "unifonic" in row.last_error


def test_a_row_whose_claim_was_lost_while_moving_on_is_left_alone(fakes, monkeypatch):
    row = message_to(customer(["push", "sms"], devices=("device-1",)))

    def claim_lost(notification):
        Notification.objects.filter(pk=notification.pk).update(claimed_at=timezone.now() + timedelta(1))
        raise RecipientUnreachable("fcm", "gone", code="UNREGISTERED", status=404, forget_address=True)

    monkeypatch.setattr("backend.notifications.services.channel_send", claim_lost)
    assert notification_deliver(notification_id=row.pk).status == "skipped"
    row.refresh_from_db()
    assert (row.status, row.channel) == (Status.SENDING, "push")  # the other claimant's to finish


def test_sms_goes_through_the_registrys_provider(fakes):
    row = message_to(customer([]))
    result = channel_send(row)
    assert result.provider == "unifonic"
    assert fakes.unifonic.messages()[0]["CorrelationID"] == str(row.pk)


def test_an_unknown_sms_provider_is_a_permanent_error(settings):
    settings.SMS_PROVIDER = "carrier-pigeon"
    with pytest.raises(ProviderError) as raised:
        channels_module.message_send(phone="+966501234567", body="hi", channel="sms", reference="1")
    assert raised.value.retryable is False


def test_devices_and_statuses_name_themselves_in_the_admin():
    from backend.notifications.models import WhatsAppStatus

    user = customer(["push"], devices=("device-1",))
    device = Device.objects.get()
    assert str(device) == f"android device #{device.pk} of user #{user.pk}"
    assert str(WhatsAppStatus(wamid="wamid.1", status="read")) == "wamid.1: read"


def test_a_channel_passed_over_without_a_call_is_recorded_with_the_outcome(fakes):
    """No device: nothing was sent by push, so the move is written with the SMS outcome, not before."""
    fakes.unifonic.fail_next(1, status=503)
    row = deliver(message_to(customer(["push", "sms"])))
    assert (row.status, row.channel, row.attempts) == (Status.PENDING, "sms", 1)
    assert fakes.fcm.journal() == []
    row = deliver(Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now()) and row)
    assert (row.status, row.channel, row.attempts) == (Status.SENT, "sms", 2)
