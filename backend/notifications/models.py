from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.channels import Channel


class Platform(models.TextChoices):
    IOS = "ios", _("iOS")
    ANDROID = "android", _("Android")


class Kind(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled")
    BOOKING_RESCHEDULED = "booking_rescheduled", _("Booking rescheduled")
    BOOKING_EXPIRED = "booking_expired", _("Booking expired")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    REFUND_ISSUED = "refund_issued", _("Refund issued")
    REMINDER_24H = "reminder_24h", _("Reminder 24 hours before")
    REMINDER_2H = "reminder_2h", _("Reminder 2 hours before")
    WAITLIST_OFFER = "waitlist_offer", _("Waitlist offer")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One message to one person: the outbox row. It is written in the transaction of the change it tells
    about, and a worker delivers it after commit; its status is the truth about the delivery."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    phone = models.CharField(_("phone"), max_length=32, help_text="E.164, copied when the row was written")
    # The channel being tried; once sent, the one that delivered the message.
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.SMS)
    # The recipient's channel preference when the row was written, in order; `sms` is last. A permanent
    # failure on `channel` moves the row on to the next one (services.notification_deliver).
    channels = models.JSONField(_("channels"), default=list, blank=True)
    # The facts the body was rendered from: WhatsApp templates take them as parameters.
    context = models.JSONField(_("context"), default=dict, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=2, default="ar")
    body = models.TextField(_("body"))
    # One event never makes two messages: e.g. "booking:42:booking_confirmed".
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    # The last delivery status the provider reported by webhook (WhatsApp: sent, delivered, read, failed).
    provider_status = models.CharField(_("provider status"), max_length=16, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # When a delivery task was last put on the queue: the sweep re-enqueues only rows whose message
    # looks lost, not rows still waiting their turn in a long queue.
    enqueued_at = models.DateTimeField(_("enqueued at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep and the ops figures read undelivered rows by age; delivered rows are the bulk.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="notification_undelivered",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            # Status webhooks find their row by the provider's message id.
            models.Index(
                fields=["provider_message_id"],
                name="notification_provider_msg",
                condition=~models.Q(provider_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.phone} ({self.status})"


class Device(models.Model):
    """A phone or tablet of a user that takes push notifications: its FCM registration token. A token
    belongs to one account at a time (the last one that registered it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    # FCM tokens are about 160 characters; the bound keeps the unique index within a btree page.
    token = models.CharField(_("token"), max_length=512, unique=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.platform} device #{self.pk} of user #{self.user_id}"


class WhatsAppStatus(models.Model):
    """Every delivery status WhatsApp reported, once each: a webhook may arrive before the worker has
    recorded the message id on its row, so statuses are kept and applied by whichever comes second."""

    wamid = models.CharField(_("WhatsApp message id"), max_length=128)
    status = models.CharField(_("status"), max_length=16)
    # The outbox row the message was sent for, from the signed `biz_opaque_callback_data` Meta echoes
    # (backend/notifications/channels.py); null when absent or not ours. It names the row even when its
    # worker died before recording the wamid, so that row is recorded sent instead of sent again. Not a
    # foreign key: a status is stored whatever becomes of the row.
    notification_id = models.BigIntegerField(_("notification"), null=True, blank=True)
    error_codes = models.JSONField(_("error codes"), default=list, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("WhatsApp status")
        verbose_name_plural = _("WhatsApp statuses")
        constraints = [models.UniqueConstraint(fields=["wamid", "status"], name="whatsapp_status_once")]
        indexes = [
            models.Index(
                fields=["notification_id"],
                name="whatsapp_status_notification",
                condition=models.Q(notification_id__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.wamid}: {self.status}"
