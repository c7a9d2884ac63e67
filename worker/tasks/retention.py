"""Data retention (docs/data-retention.md): daily beat tasks, each calling the owning app's service. Every
one is idempotent, so a rerun or a redelivered message changes nothing more."""

from celery import shared_task

from backend.accounts.services import otp_challenges_purge
from backend.core.services import idempotency_records_purge
from backend.notifications.services import (
    notification_bodies_purge,
    notifications_anonymise_deleted_recipients,
)
from backend.notifications.whatsapp_status import whatsapp_statuses_purge
from backend.reviews.services import reviews_anonymise_deleted_customers


@shared_task(name="retention.otp_challenges", ignore_result=True)
def purge_otp_challenges() -> int:
    """Login-code rows expired more than RETENTION_OTP_DAYS ago are deleted."""
    return otp_challenges_purge()


@shared_task(name="retention.notification_bodies", ignore_result=True)
def purge_notification_bodies() -> int:
    """Texts of notifications delivered more than RETENTION_NOTIFICATION_BODY_DAYS ago are blanked, and
    WhatsApp delivery statuses as old are deleted."""
    return notification_bodies_purge() + whatsapp_statuses_purge()


@shared_task(name="retention.deleted_accounts", ignore_result=True)
def anonymise_deleted_accounts() -> dict[str, int]:
    """Personal data of deleted accounts still held by other apps is blanked."""
    return {
        "notifications": notifications_anonymise_deleted_recipients(),
        "reviews": reviews_anonymise_deleted_customers(),
    }


@shared_task(name="retention.idempotency_records", ignore_result=True)
def purge_idempotency_records() -> int:
    """Idempotency-Key answers older than IDEMPOTENCY_TTL_HOURS are deleted."""
    return idempotency_records_purge()
