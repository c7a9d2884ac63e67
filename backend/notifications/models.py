from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Kind(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled")
    BOOKING_RESCHEDULED = "booking_rescheduled", _("Booking rescheduled")
    BOOKING_EXPIRED = "booking_expired", _("Booking expired")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    REFUND_ISSUED = "refund_issued", _("Refund issued")
    REMINDER_24H = "reminder_24h", _("Reminder 24 hours before")
    REMINDER_2H = "reminder_2h", _("Reminder 2 hours before")


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
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.SMS)
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
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.phone} ({self.status})"
