"""Gateway events: each processed once; the payment it names is re-fetched, the body only a hint."""

import hmac
import uuid
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.payments.models import Payment, WebhookEvent
from backend.payments.services.apply import ApplyOutcome, payment_apply
from backend.payments.services.base import gateway

# Every payment event is handled alike: it only names the payment to re-fetch. Others are acknowledged.
WEBHOOK_EVENT_TYPES = frozenset(
    {
        "payment_paid",
        "payment_failed",
        "payment_authorized",
        "payment_captured",
        "payment_refunded",
        "payment_voided",
    }
)


class WebhookOutcome(StrEnum):
    """What became of an event that did not reach a payment (those answer with an ApplyOutcome)."""

    DUPLICATE = "duplicate"  # processed before: nothing done
    IGNORED = "ignored"  # not a payment event: acknowledged
    UNKNOWN_PAYMENT = "unknown_payment"  # names no payment of ours


def webhook_authenticate(body: dict) -> None:
    """Checks the shared secret Moyasar sends in the event's body (`secret_token`), in constant time;
    401 `webhook_unauthorized` when it is wrong, missing, or no secret is configured."""
    token = body.get("secret_token")
    secret = settings.MOYASAR_WEBHOOK_SECRET
    if not (secret and isinstance(token, str) and hmac.compare_digest(token.encode(), secret.encode())):
        raise ApplicationError("webhook_unauthorized", _("The webhook secret is wrong."), status=401)


def webhook_receive(*, event_id: str, event_type: str, payload: dict) -> WebhookOutcome | ApplyOutcome:
    """Handles one authenticated gateway event; returns its outcome. An event is processed once: a replay
    of a processed event does nothing. The payment is re-fetched with our secret key; the body is only a
    hint. A fetch failure raises ProviderError and leaves the event unprocessed for the gateway's retry."""
    # The shared secret authenticated the request; stored, it would sit in every row and every backup.
    stored = {key: value for key, value in payload.items() if key != "secret_token"}
    event, _created = WebhookEvent.objects.get_or_create(
        event_id=event_id, defaults={"type": event_type, "payload": stored}
    )
    if event.processed_at is not None:
        return WebhookOutcome.DUPLICATE
    payment = None
    if event_type not in WEBHOOK_EVENT_TYPES:
        outcome: WebhookOutcome | ApplyOutcome = WebhookOutcome.IGNORED
    else:
        payment = _payment_named_by(payload)
        if payment is None:
            outcome = WebhookOutcome.UNKNOWN_PAYMENT
        else:
            remote = gateway.payment_fetch(gateway_id=str(payment.pk))
            outcome = payment_apply(payment_id=payment.pk, remote=remote)
    WebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=timezone.now(), outcome=outcome, payment=payment
    )
    return outcome


def _payment_named_by(payload: dict) -> Payment | None:
    data = payload.get("data")
    raw_id = data.get("id") if isinstance(data, dict) else None
    try:
        payment_id = uuid.UUID(str(raw_id))
    except ValueError:
        return None
    return Payment.objects.filter(pk=payment_id).first()
