"""How one outbox row goes out on its current channel, and which channel comes next.

A row carries the recipient's preference (`channels`, ordered, `sms` last) and the channel being tried
(`channel`). Push needs FCM configured and a registered device; WhatsApp needs the recipient's opt-in
(listing it), the sender configured and a template for the message kind; SMS always goes. A channel that
cannot carry the row raises `RecipientUnreachable`, like a provider saying it cannot reach the person
(an unregistered device token, a number not on WhatsApp): the caller moves on to the next channel."""

from django.conf import settings
from django.core import signing
from django.utils import translation

from backend.notifications.models import Channel, Device, Kind, Notification
from backend.notifications.senders import message_send
from backend.providers import fcm, whatsapp
from backend.providers.base import RecipientUnreachable, SendResult
from backend.providers.registry import push_configured, whatsapp_configured


def next_channel(notification: Notification) -> str | None:
    """The channel after the row's current one in its preference, or None when it is the last."""
    plan = list(notification.channels or [notification.channel])
    position = plan.index(notification.channel) if notification.channel in plan else len(plan)
    return plan[position + 1] if position + 1 < len(plan) else None


class ChannelUnusable(RecipientUnreachable):
    """The channel cannot carry this row and no provider was called (not configured, no device, no
    template): moving on needs no record, since trying this channel again sends nothing."""


def _unusable(provider: str, message: str, code: str) -> ChannelUnusable:
    return ChannelUnusable(provider, message, code=code, status=None, forget_address=False)


def _push_title(notification: Notification) -> str:
    with translation.override(notification.language):
        return str(Kind(notification.kind).label)


def _send_push(notification: Notification) -> SendResult:
    """To the recipient's most recently registered device; a device FCM no longer knows is deleted and
    the next one tried. The row's collapse id makes a resend (a crash after FCM accepted it) replace the
    first on the device."""
    if not push_configured():
        raise _unusable(fcm.PROVIDER, "push is not configured", "not_configured")
    devices = (
        list(Device.objects.filter(user_id=notification.recipient_id)) if notification.recipient_id else []
    )
    unreachable = _unusable(fcm.PROVIDER, "no registered device", "no_device")
    for device in devices:
        try:
            return fcm.send_push(
                device_token=device.token,
                title=_push_title(notification),
                body=notification.body,
                data={"kind": notification.kind, "notification_id": notification.pk},
                collapse_id=fcm.collapse_id_for(notification.pk),
                timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS,
            )
        except RecipientUnreachable as error:
            if error.forget_address:
                Device.objects.filter(pk=device.pk, token=device.token).delete()
            unreachable = error
    raise unreachable


# Signed with the SECRET_KEY: a status from another deployment sharing the WhatsApp app (staging) or
# naming a row of a database since reset cannot pass for one of ours and mark an unsent row sent.
_CALLBACK_SALT = "notifications.whatsapp.callback"
_CALLBACK_PREFIX = "notification-"


def whatsapp_callback_data(notification_id: int) -> str:
    """The `biz_opaque_callback_data` a row's WhatsApp messages carry: its id, signed (about 45
    characters of Meta's 512)."""
    return signing.Signer(salt=_CALLBACK_SALT).sign(f"{_CALLBACK_PREFIX}{notification_id}")


def notification_id_from_callback(callback_data: str) -> int | None:
    """The row id a status's echoed callback data names, or None when it is absent or not ours."""
    try:
        value = signing.Signer(salt=_CALLBACK_SALT).unsign(callback_data)  # SECRET_KEY_FALLBACKS too
    except signing.BadSignature:
        return None
    number = value.removeprefix(_CALLBACK_PREFIX)
    return int(number) if value.startswith(_CALLBACK_PREFIX) and number.isdigit() else None


def _send_whatsapp(notification: Notification) -> SendResult:
    found = whatsapp.template_for(settings.WHATSAPP_TEMPLATES, notification.kind, notification.language)
    if not whatsapp_configured() or found is None:
        raise _unusable(whatsapp.PROVIDER, f"no WhatsApp template for {notification.kind}", "no_template")
    template, language = found
    return whatsapp.send_template(
        phone=notification.phone,
        template=template.name,
        language=language,
        parameters=whatsapp.template_parameters(template, notification.context),
        timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS,
        callback_data=whatsapp_callback_data(notification.pk),
    )


def channel_send(notification: Notification) -> SendResult:
    """Sends the row on its current channel. Raises ProviderError: `RecipientUnreachable` when this
    channel cannot reach the recipient."""
    if notification.channel == Channel.PUSH:
        return _send_push(notification)
    if notification.channel == Channel.WHATSAPP:
        return _send_whatsapp(notification)
    return message_send(
        phone=notification.phone, body=notification.body, channel=Channel.SMS, reference=str(notification.pk)
    )
