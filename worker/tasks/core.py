from celery import shared_task

from backend.core.services import heartbeat_record


@shared_task(name="core.echo")
def echo(value: str) -> str:
    """Round-trips a value; used by tests and ops to prove a worker consumes the default queue."""
    return value


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by beat each minute: records that beat and a worker are alive (read by /health/)."""
    heartbeat_record()
