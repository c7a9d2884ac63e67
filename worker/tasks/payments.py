from celery import shared_task

from backend.payments.services import payments_reconcile, refund_execute


@shared_task(name="payments.refund", bind=True, max_retries=None)
def refund(self, refund_id: int) -> str:
    """Executes one refund row, exactly once. Attempts are counted on the row (PAYMENT_REFUND_MAX_ATTEMPTS),
    not by Celery, so the bound survives restarts; the backoff doubles each attempt."""
    outcome = refund_execute(refund_id=refund_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="payments.reconcile", ignore_result=True)
def reconcile() -> int:
    """Beat, every minute: settles payments left open and re-enqueues refunds whose task was lost."""
    return payments_reconcile()
