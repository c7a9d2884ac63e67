"""Refreshing open payments from the gateway, and the beat sweep that settles what was left open."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from backend.core.http import ProviderError
from backend.payments.models import OPEN_STATUSES, Payment, Refund, RefundStatus, Status
from backend.payments.services.apply import _payment_fail, payment_apply
from backend.payments.services.base import NOT_FOUND, _enqueue_refund, gateway

logger = logging.getLogger(__name__)


def payment_refresh(*, payment_id, now: datetime | None = None) -> Payment:
    """Asks the gateway about a payment that is not final yet and applies the answer (the 3-D Secure
    return, the reconciler). A `pending` row the gateway does not know, older than
    PAYMENT_RECONCILE_AFTER_SECONDS (longer than any create can take), was never created: failed."""
    now = now or timezone.now()
    payment = Payment.objects.get(pk=payment_id)
    if payment.status not in OPEN_STATUSES:
        return payment
    try:
        remote = gateway.payment_fetch(gateway_id=str(payment.pk))
    except ProviderError as error:
        settled_after = payment.created_at + timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
        if error.status == NOT_FOUND and payment.status == Status.PENDING and settled_after <= now:
            _payment_fail(payment.pk, message="never created at the gateway")
        else:
            logger.warning("payment %s: could not refresh (%r)", payment.pk, error)
        return Payment.objects.get(pk=payment_id)
    payment_apply(payment_id=payment.pk, remote=remote)
    return Payment.objects.get(pk=payment_id)


def payments_reconcile(*, now: datetime | None = None, limit: int = 20) -> int:
    """Beat, every minute: payments left open past PAYMENT_RECONCILE_AFTER_SECONDS (and younger than
    PAYMENT_RECONCILE_WINDOW_HOURS: abandoned 3-D Secure pages stay `initiated` forever) are fetched and
    settled; refunds whose task was lost are enqueued again. Returns the payments looked at."""
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_SECONDS)
    ids = list(
        Payment.objects.filter(
            status__in=OPEN_STATUSES,
            created_at__lte=due,
            created_at__gte=now - timedelta(hours=settings.PAYMENT_RECONCILE_WINDOW_HOURS),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for payment_id in ids:
        payment_refresh(payment_id=payment_id, now=now)
    stale_claim = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    lost = Refund.objects.filter(status=RefundStatus.REQUESTED, updated_at__lte=due).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale_claim)
    )
    for refund_id in lost.values_list("pk", flat=True):
        _enqueue_refund(refund_id)
    return len(ids)
