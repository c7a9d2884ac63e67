"""WhatsApp delivery statuses (the status webhook) applied to outbox rows.

Each status is stored once (`WhatsAppStatus`, unique by message id and status), then applied to the row
that holds that message id, under the row's lock, in the order statuses arrived, through
`whatsapp_webhook.status_advances`: statuses only move forward, repeats and late ones change nothing, and
a `failed` (before anything was delivered) moves the row on to its next channel exactly once.

A status may arrive before the worker has recorded the message id on the row (the provider answers the
send and posts the webhook at about the same time). Both sides apply after their own write is
committed: the webhook after storing the status, the worker after recording the id. Whichever commits
second sees the other's write, so no status is lost."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.notifications.channels import next_channel
from backend.notifications.models import Notification, Status, WhatsAppStatus
from backend.providers import whatsapp
from backend.providers.whatsapp_webhook import FAILED, StatusUpdate, status_advances

logger = logging.getLogger(__name__)

MAX_WAMID = WhatsAppStatus._meta.get_field("wamid").max_length
MAX_STATUS = WhatsAppStatus._meta.get_field("status").max_length


def whatsapp_statuses_record(*, updates: list[StatusUpdate]) -> list[str]:
    """Stores the statuses not seen before; returns the message ids they concern (in order, once)."""
    wamids: list[str] = []
    for update in updates:
        if len(update.wamid) > MAX_WAMID or len(update.status) > MAX_STATUS:
            logger.warning("WhatsApp status webhook: an id or status too long to be Meta's, ignored")
            continue
        try:
            with transaction.atomic():
                WhatsAppStatus.objects.create(
                    wamid=update.wamid,
                    status=update.status,
                    error_codes=list(update.error_codes),
                    reported_at=update.timestamp,
                )
        except IntegrityError:  # a repeated webhook: this status is already known
            pass
        if update.wamid not in wamids:
            wamids.append(update.wamid)
    return wamids


def _move_on(notification: Notification, codes: list[int]) -> None:
    from backend.notifications.services import _enqueue_after_commit

    now = timezone.now()
    error = f"whatsapp: failed status ({', '.join(map(str, codes)) or 'no code'})"
    following = next_channel(notification)
    if following is None:
        notification.status, notification.failed_at, notification.last_error = Status.FAILED, now, error
        return
    logger.info("notification %s: WhatsApp reported failed, moving on to %s", notification.pk, following)
    notification.status = Status.PENDING
    notification.channel = following
    notification.attempts = 0
    notification.sent_at = None
    notification.next_attempt_at = notification.enqueued_at = now
    notification.last_error = error
    _enqueue_after_commit([notification.pk])


@transaction.atomic
def whatsapp_statuses_apply(*, wamid: str) -> bool:
    """Applies the stored statuses of `wamid` to its row; False when no row holds that id (yet)."""
    notification = (
        Notification.objects.select_for_update()
        .filter(provider=whatsapp.PROVIDER, provider_message_id=wamid)
        .first()
    )
    if notification is None:
        return False
    current = notification.provider_status or None
    for status in WhatsAppStatus.objects.filter(wamid=wamid).order_by("received_at", "pk"):
        if not status_advances(current, status.status):
            continue
        current = status.status
        if status.status == FAILED and notification.status == Status.SENT:
            _move_on(notification, status.error_codes)
    if current != (notification.provider_status or None):
        notification.provider_status = current
        notification.updated_at = timezone.now()
        notification.save()
    return True


def whatsapp_statuses_purge(*, now: datetime | None = None) -> int:
    """Retention (beat, daily, with the notification bodies): statuses received more than
    RETENTION_NOTIFICATION_BODY_DAYS ago are deleted; their message was settled long before. Returns how
    many rows went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_NOTIFICATION_BODY_DAYS)
    deleted, _by_model = WhatsAppStatus.objects.filter(received_at__lt=cutoff).delete()
    return deleted
