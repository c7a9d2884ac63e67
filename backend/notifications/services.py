"""The notification outbox: rows are written with the change they tell about, delivered by workers.

Delivery is at-least-once towards the provider and exactly-once in our books: a row is claimed with one
conditional UPDATE, so two workers (a redelivered message, a sweep) never send it twice; the only window
for a duplicate SMS is a worker killed after the provider accepted the message and before the row says
so (see docs/adr/0002-async-notifications.md)."""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from backend.core.http import ProviderError
from backend.core.tasks import enqueue_on_commit
from backend.notifications.channels import ChannelUnusable, channel_send, next_channel
from backend.notifications.models import Channel, Notification, Status
from backend.notifications.preferences import channels_for
from backend.notifications.rendering import notification_render
from backend.notifications.whatsapp_status import whatsapp_row_settle, whatsapp_statuses_apply

logger = logging.getLogger(__name__)


def _enqueue_after_commit(notification_ids: list[int]) -> None:
    # Only committed rows are delivered: a rolled-back booking sends nothing.
    from worker.tasks.notifications import deliver_notification

    for notification_id in notification_ids:
        enqueue_on_commit(deliver_notification, notification_id, recovery="the notifications sweep sends it")


def _insert_unless_duplicate(notification: Notification) -> Notification | None:
    """Inserts the unsaved row, or nothing when its dedupe key is taken: one `INSERT ... ON CONFLICT DO
    NOTHING RETURNING *`. The ORM's create() would need a savepoint around it (two more statements on
    every booking) so that a duplicate does not abort the caller's transaction; `bulk_create`'s
    ignore_conflicts cannot say whether the row was new, nor give its id."""
    using = router.db_for_write(Notification)
    connection = connections[using]
    fields = [field for field in Notification._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    # pre_save fills auto_now(_add) stamps, get_db_prep_save adapts each value, as the ORM's insert does.
    values = [field.get_db_prep_save(field.pre_save(notification, add=True), connection) for field in fields]
    inserted = Notification.objects.db_manager(using).raw(
        f"""INSERT INTO {Notification._meta.db_table} ({columns}) VALUES ({", ".join(["%s"] * len(fields))})
            ON CONFLICT (dedupe_key) DO NOTHING RETURNING *""",  # noqa: S608 - names are ours, values parameters
        values,
    )
    return next(iter(inserted), None)


def notification_create(
    *,
    kind: str,
    phone: str,
    language: str,
    context: dict[str, str],
    dedupe_key: str,
    recipient=None,
) -> Notification | None:
    """Writes one outbox row in the caller's transaction; None when this event already has its row (the
    caller's transaction goes on either way). The row keeps the recipient's channel preference of now
    (SMS alone without a recipient) and starts on its first channel."""
    channels = channels_for(recipient)
    notification = _insert_unless_duplicate(
        Notification(
            dedupe_key=dedupe_key,
            recipient=recipient,
            phone=phone,
            channel=channels[0],
            channels=channels,
            kind=kind,
            language=language,
            context=dict(context),
            body=notification_render(kind=kind, language=language, context=context),
        )
    )
    if notification is not None:
        _enqueue_after_commit([notification.id])
    return notification


def _stale_before(now: datetime) -> tuple[datetime, datetime]:
    """Rows `sending` since before these instants lost their worker and may be claimed again: the first
    for every channel, the second (WHATSAPP_STATUS_GRACE_SECONDS earlier) for rows on WhatsApp, whose
    status webhook is given that long to show the dead worker's message went out (whatsapp_status.py)."""
    stale_before = now - timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
    return stale_before, stale_before - timedelta(seconds=settings.WHATSAPP_STATUS_GRACE_SECONDS)


def notification_claim(*, notification_id: int) -> Notification | None:
    """Takes the row for one delivery attempt, or None if it is sent, failed, not yet due, or being sent
    by another worker right now. A row stuck in `sending` past the staleness bound (its worker died) can
    be claimed again; on WhatsApp, after the status grace as well."""
    now = timezone.now()
    stale_before, whatsapp_stale_before = _stale_before(now)
    # One statement (UPDATE ... RETURNING, which the ORM's update() cannot say): it runs for every
    # delivery, and a second read would cost the worker a round trip each time.
    claimed = Notification.objects.raw(
        f"""UPDATE {Notification._meta.db_table}
            SET status = %s, claimed_at = %s, attempts = attempts + 1, updated_at = %s
            WHERE id = %s AND ((status = %s AND next_attempt_at <= %s) OR (status = %s
              AND claimed_at < CASE WHEN channel = %s THEN %s::timestamptz ELSE %s::timestamptz END))
            RETURNING *""",  # noqa: S608 - the table name is ours, every value a parameter
        [
            *(Status.SENDING, now, now, notification_id, Status.PENDING, now, Status.SENDING),
            *(Channel.WHATSAPP, whatsapp_stale_before, stale_before),
        ],
    )
    return next(iter(claimed), None)


def retry_delay_seconds(*, attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, then scaled by a random factor in
    [1 - jitter, 1] so that a provider outage does not end in a synchronized stampede."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_MAX_DELAY_SECONDS,
        settings.NOTIFICATION_RETRY_BASE_DELAY_SECONDS * 2 ** (attempts - 1),
    )
    return ceiling * (1 - settings.NOTIFICATION_RETRY_JITTER * random.random())  # noqa: S311 - not crypto


class Delivery(StrEnum):
    """What one delivery attempt came to."""

    SENT = "sent"
    FAILED = "failed"
    RETRY = "retry"  # back to pending on the same channel after a backoff
    SKIPPED = "skipped"  # not ours to send: already done, claimed elsewhere, or not due


@dataclass(frozen=True)
class DeliveryOutcome:
    status: Delivery
    retry_in: float | None = None


def _record_outcome(notification: Notification, **fields) -> bool:
    """Records the outcome, only while the row is still ours (claimed at the same instant), with the
    channel it concerns."""
    fields = {"channel": notification.channel, "attempts": notification.attempts, **fields}
    fields["updated_at"] = timezone.now()
    return bool(
        Notification.objects.filter(
            pk=notification.pk, status=Status.SENDING, claimed_at=notification.claimed_at
        ).update(**fields)
    )


def _move_on(notification: Notification, channel: str, error: ProviderError) -> bool:
    """Points the claimed row at its next channel BEFORE that channel is called, so a worker killed from
    here on resumes there and never calls the channel that failed again. A channel that made no provider
    call (ChannelUnusable) is passed over in memory: trying it again after a kill sends nothing, and most
    rows (no device, no template) then cost no extra write. False: the row is not ours any more."""
    logger.info(
        "notification %s: %s cannot deliver (%s), moving on to %s",
        notification.pk,
        notification.channel,
        error.code or error.message,
        channel,
    )
    last_error = f"{notification.channel}: {error}"[:1000]
    # Onto WhatsApp, always: a worker killed after Meta accepted the message then leaves a row that says
    # WhatsApp, which waits for its status before it is sent again (whatsapp_status.py).
    recorded = not isinstance(error, ChannelUnusable) or channel == Channel.WHATSAPP
    if recorded and not _record_outcome(notification, channel=channel, attempts=1, last_error=last_error):
        return False
    notification.channel, notification.attempts, notification.last_error = channel, 1, last_error
    return True


def _retry_later(notification: Notification, error: ProviderError, now: datetime) -> DeliveryOutcome:
    """Back to `pending` on the same channel after the backoff, or after the provider's Retry-After when
    it asks for longer. The task's own countdown is capped (Celery's limit): a row not yet due when its
    message comes back is left alone and sent by the sweep once due."""
    delay = max(retry_delay_seconds(attempts=notification.attempts), error.retry_after or 0)
    _record_outcome(
        notification,
        status=Status.PENDING,
        last_error=str(error)[:1000],
        next_attempt_at=now + timedelta(seconds=delay),
        enqueued_at=now,
    )
    return DeliveryOutcome(Delivery.RETRY, retry_in=min(delay, settings.NOTIFICATION_RETRY_MAX_DELAY_SECONDS))


def notification_deliver(*, notification_id: int) -> DeliveryOutcome:
    """One delivery attempt of the row: on its current channel, then on the next ones while a channel
    fails permanently (it cannot reach the person: no device, an unregistered token, not on WhatsApp, no
    template; or the provider refused). A retryable failure retries the same channel later."""
    notification = notification_claim(notification_id=notification_id)
    if notification is None:
        return DeliveryOutcome(Delivery.SKIPPED)
    if notification.channel == Channel.WHATSAPP:
        # An earlier attempt's worker may have died after Meta accepted its message: recorded, not resent.
        settled = whatsapp_row_settle(notification_id=notification.pk, claimed_at=notification.claimed_at)
        if settled is not None:
            return DeliveryOutcome(Delivery.SENT if settled == Status.SENT else Delivery.SKIPPED)
    now = timezone.now()
    if notification.attempts > settings.NOTIFICATION_MAX_ATTEMPTS:
        # Claimed again after its last attempt died with its worker: give up, visibly.
        _record_outcome(notification, status=Status.FAILED, failed_at=now, last_error="attempts exhausted")
        return DeliveryOutcome(Delivery.FAILED)
    while True:
        try:
            result = channel_send(notification)
            break
        except ProviderError as error:
            following = None if error.retryable else next_channel(notification)
            if following is not None:
                if not _move_on(notification, following, error):
                    return DeliveryOutcome(Delivery.SKIPPED)
                continue
            retry = error.retryable and notification.attempts < settings.NOTIFICATION_MAX_ATTEMPTS
            logger.warning(
                "notification %s attempt %s on %s failed (%s): %s",
                notification.pk,
                notification.attempts,
                notification.channel,
                "will retry" if retry else "final",
                error,
            )
            if retry:
                return _retry_later(notification, error, now)
            _record_outcome(notification, status=Status.FAILED, failed_at=now, last_error=str(error)[:1000])
            return DeliveryOutcome(Delivery.FAILED)
    _record_outcome(
        notification,
        status=Status.SENT,
        sent_at=timezone.now(),
        provider=result.provider,
        provider_message_id=result.message_id or "",
        provider_status="",
        last_error="",
    )
    if notification.channel == Channel.WHATSAPP and result.message_id:
        # Statuses that came in before the message id was on the row are applied now.
        whatsapp_statuses_apply(wamid=result.message_id)
    return DeliveryOutcome(Delivery.SENT)


def notification_retry(*, notification_ids: list[int]) -> int:
    """Ops action: failed rows get a fresh set of attempts. Returns how many were re-queued."""
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update()
            .filter(pk__in=notification_ids, status=Status.FAILED)
            .values_list("pk", flat=True)
        )
        now = timezone.now()
        Notification.objects.filter(pk__in=ids).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            enqueued_at=now,
            failed_at=None,
            updated_at=now,
        )
        _enqueue_after_commit(ids)
    return len(ids)


def notification_sweep(*, limit: int = 1000) -> int:
    """Re-enqueues rows whose delivery message looks lost (a Redis restart, a worker killed mid-task):
    due and not enqueued for a while, or stuck in `sending` past the staleness bound. Returns the count."""
    now = timezone.now()
    quiet_since = now - timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
    stale_before, whatsapp_stale_before = _stale_before(now)
    stale = Q(claimed_at__lt=stale_before) & ~Q(channel=Channel.WHATSAPP) | Q(
        claimed_at__lt=whatsapp_stale_before, channel=Channel.WHATSAPP
    )  # as notification_claim takes them
    lost = Q(status=Status.PENDING, next_attempt_at__lt=quiet_since, enqueued_at__lt=quiet_since) | (
        Q(status=Status.SENDING, enqueued_at__lt=quiet_since) & stale
    )
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(lost)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
        _enqueue_after_commit(ids)
    if ids:
        logger.warning("notification sweep re-enqueued %s rows", len(ids))
    return len(ids)


def notification_bodies_purge(*, now: datetime | None = None) -> int:
    """Retention (beat, daily): the text of rows delivered more than RETENTION_NOTIFICATION_BODY_DAYS ago
    is blanked, and their phone too when the recipient deleted their account. The row itself (kind,
    status, attempts, timestamps) stays for the ops figures. Returns how many rows changed."""
    now = now or timezone.now()
    old = Notification.objects.filter(
        status=Status.SENT, sent_at__lt=now - timedelta(days=settings.RETENTION_NOTIFICATION_BODY_DAYS)
    )
    changed = (
        old.filter(recipient__deleted_at__isnull=False)
        .exclude(body="", phone="")
        .update(body="", phone="", context={}, updated_at=now)
    )
    return changed + old.exclude(body="").update(body="", context={}, updated_at=now)


def notifications_anonymise_deleted_recipients(*, now: datetime | None = None) -> int:
    """Retention (beat, daily): rows to deleted accounts lose phone and text whatever their age, once they
    are finished (sent or failed); rows still being delivered (a deletion's cancellation message) keep
    them until then. Idempotent. Returns how many rows changed."""
    now = now or timezone.now()
    finished = Notification.objects.filter(
        recipient__deleted_at__isnull=False, status__in=[Status.SENT, Status.FAILED]
    )
    return finished.exclude(body="", phone="").update(body="", phone="", context={}, updated_at=now)
