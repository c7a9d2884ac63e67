from celery import shared_task

from backend.core.request_id import current_request_id
from backend.core.services import heartbeat_record


@shared_task(name="core.echo")
def echo(value: str) -> dict:
    """Round-trips a value with the request id it was enqueued under: proves to tests and ops that a worker
    consumes the queue and that request ids follow tasks."""
    return {"value": value, "request_id": current_request_id()}


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by beat each minute: records that beat and a worker are alive (read by /health/)."""
    heartbeat_record()
