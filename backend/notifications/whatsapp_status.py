"""WhatsApp delivery statuses (the status webhook) applied to outbox rows.

Each status is stored once (`WhatsAppStatus`, unique by message id and status), then applied to the row
that holds that message id, under the row's lock, in the order statuses arrived, through
`whatsapp_webhook.status_advances`: statuses only move forward, repeats and late ones change nothing, and
a `failed` (before anything was delivered) moves the row on to its next channel exactly once.

A status may arrive before the worker has recorded the message id on the row (the provider answers the
send and posts the webhook at about the same time). Both sides apply after their own write is
committed: the webhook after storing the status, the worker after recording the id. Whichever commits
second sees the other's write, so no status is lost.

Each message also carries its row's signed id (`biz_opaque_callback_data`, echoed in every status), kept
with the status. A worker killed after Meta accepted a message and before the row recorded its wamid
leaves the row in `sending`; a status under the row's id is Meta's word that the message went out, so
`whatsapp_row_settle` records the row sent with that wamid (and applies its statuses: a `failed` moves it
on) instead of letting it be sent again. Rows no live worker holds are settled when such a status comes
in; the worker that claims a row settles it before sending. A stale row with no status yet is not claimed
again before WHATSAPP_STATUS_GRACE_SECONDS more (services.notification_claim): after that it is sent
again, so a status that never comes loses nothing."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.notifications.channels import next_channel, notification_id_from_callback
from backend.notifications.models import Channel, Notification, Status, WhatsAppStatus
from backend.providers import whatsapp
from backend.providers.whatsapp_webhook import (
    FAILED,
    KNOWN_STATUSES,
    STATUS_RANK,
    StatusUpdate,
    status_advances,
)

logger = logging.getLogger(__name__)

MAX_WAMID = WhatsAppStatus._meta.get_field("wamid").max_length
MAX_STATUS = WhatsAppStatus._meta.get_field("status").max_length


def whatsapp_statuses_record(*, updates: list[StatusUpdate]) -> dict[str, int | None]:
    """Stores the statuses not seen before; returns the message ids they concern (in order, once), each
    with the row its callback data names (None: none of ours)."""
    wamids: dict[str, int | None] = {}
    for update in updates:
        if len(update.wamid) > MAX_WAMID or len(update.status) > MAX_STATUS:
            logger.warning("WhatsApp status webhook: an id or status too long to be Meta's, ignored")
            continue
        notification_id = notification_id_from_callback(update.callback_data)
        try:
            with transaction.atomic():
                WhatsAppStatus.objects.create(
                    wamid=update.wamid,
                    status=update.status,
                    error_codes=list(update.error_codes),
                    reported_at=update.timestamp,
                    notification_id=notification_id,
                )
        except IntegrityError:  # a repeated webhook: this status is already known
            pass
        if wamids.get(update.wamid) is None:
            wamids[update.wamid] = notification_id
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


def _accepted_wamid(notification_id: int) -> str | None:
    """The wamid of a message Meta accepted for this row, by the statuses under its id: one that got
    sent, delivered or read (the furthest along) over one that only failed; None without any status."""
    folded: dict[str, str | None] = {}
    statuses = WhatsAppStatus.objects.filter(notification_id=notification_id, status__in=KNOWN_STATUSES)
    for wamid, status in statuses.order_by("received_at", "pk").values_list("wamid", "status"):
        if status_advances(folded.get(wamid), status):
            folded[wamid] = status
    if not folded:
        return None
    return max(folded, key=lambda wamid: STATUS_RANK.get(folded[wamid] or "", 0))


def whatsapp_row_settle(*, notification_id: int, claimed_at: datetime | None = None) -> str | None:
    """Records the row sent by WhatsApp when statuses under its id show Meta accepted a message for it
    that the row does not know of (its worker died before recording it), then applies that message's
    statuses (a `failed` moves it on to the next channel, as it would have). Only a row no live worker
    holds: `pending`, `sending` past NOTIFICATION_STALE_SECONDS, or claimed at `claimed_at` by the
    caller. Returns the row's status after, or None when nothing was settled. Idempotent."""
    # Statuses are only ever added, so a wamid read before the row's lock is still Meta's word; most
    # deliveries find none and take no lock.
    wamid = _accepted_wamid(notification_id)
    if wamid is None:
        return None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, channel=Channel.WHATSAPP, status__in=[Status.PENDING, Status.SENDING])
            .first()
        )
        if notification is None:
            return None
        now = timezone.now()
        worker_alive = notification.claimed_at and now - notification.claimed_at < timedelta(
            seconds=settings.NOTIFICATION_STALE_SECONDS
        )
        if notification.status == Status.SENDING and notification.claimed_at != claimed_at and worker_alive:
            return None  # its worker records what it sent; a status of an earlier message waits for the claim
        logger.warning(
            "notification %s: WhatsApp accepted %s before its worker died; recorded sent",
            notification_id,
            wamid,
        )
        notification.status, notification.sent_at, notification.updated_at = Status.SENT, now, now
        notification.provider, notification.provider_message_id = whatsapp.PROVIDER, wamid
        notification.provider_status = notification.last_error = ""
        notification.save()
        whatsapp_statuses_apply(wamid=wamid)
        notification.refresh_from_db(fields=["status"])
        return notification.status


def whatsapp_statuses_purge(*, now: datetime | None = None) -> int:
    """Retention (beat, daily, with the notification bodies): statuses received more than
    RETENTION_NOTIFICATION_BODY_DAYS ago are deleted; their message was settled long before. Returns how
    many rows went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_NOTIFICATION_BODY_DAYS)
    deleted, _by_model = WhatsAppStatus.objects.filter(received_at__lt=cutoff).delete()
    return deleted
