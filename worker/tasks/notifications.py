from celery import shared_task

from backend.notifications.services import notification_deliver, notification_sweep


# No result row: the outcome is on the notification itself, and a result write per message costs the
# worker more than the delivery's own bookkeeping.
@shared_task(name="notifications.deliver", bind=True, max_retries=None, ignore_result=True)
def deliver_notification(self, notification_id: int) -> str:
    """Delivers one outbox row. Retries are counted on the row, not by Celery, so they survive restarts."""
    outcome = notification_deliver(notification_id=notification_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_notifications() -> int:
    """Beat, every minute: re-enqueue rows whose delivery message was lost."""
    return notification_sweep()
