from celery import shared_task

from backend.einvoicing.reporting import ReportStatus, unit_report, units_sweep


@shared_task(name="einvoicing.report", bind=True, max_retries=None)
def report(self, unit_id: int) -> str:
    """Reports one unit's waiting documents in chain order. Retryable failures back off (the delay doubles
    with the document's attempts); a full batch enqueues the next one. A run that finds the unit inside its
    backoff ends there, unless it is the retrying run itself (woken a little early): that one waits again."""
    outcome = unit_report(unit_id=unit_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    if outcome.status == ReportStatus.WAITING and self.request.retries:
        raise self.retry(countdown=outcome.waits)
    if outcome.status == ReportStatus.MORE:
        report.delay(unit_id)
    return outcome.status


@shared_task(name="einvoicing.sweep", ignore_result=True)
def sweep() -> int:
    """Beat, every minute: re-enqueues units whose documents wait unreported (a lost task, a failure)."""
    return units_sweep()
