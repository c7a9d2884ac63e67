from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.http import ProviderError


@dataclass(frozen=True)
class SendResult:
    """A message the provider accepted."""

    provider: str
    message_id: str | None  # the provider's id of the message, when it gives one
    raw: Any  # the provider's answer body


class RecipientUnreachable(ProviderError):
    """A permanent failure that says this channel cannot reach this recipient (a push token the provider
    no longer knows, a number not on WhatsApp), not that the message or our set-up is wrong: the caller
    moves the message on to the recipient's next channel. `forget_address`: the address (a device token)
    is dead for good and should be deleted."""

    def __init__(
        self, provider: str, message: str, *, code: str | None, status: int | None, forget_address: bool
    ) -> None:
        super().__init__(provider, message, retryable=False, status=status, code=code)
        self.forget_address = forget_address


@dataclass(frozen=True)
class GatewayPayment:
    """A payment as the gateway reports it: the one result of every gateway operation."""

    gateway_id: str
    status: str  # the gateway's own status: initiated, paid, failed, authorized, captured, refunded...
    amount: int  # halalas
    currency: str
    refunded: int  # halalas refunded so far (accumulates)
    captured: int  # halalas captured so far
    transaction_url: str  # where the payer completes 3-D Secure; empty when there is no such step
    message: str  # the gateway's reason, e.g. a decline message
    raw: Any  # the gateway's answer body


class PaymentGateway(Protocol):
    """What the payments app needs from a gateway. Failures raise `backend.core.http.ProviderError`."""

    def payment_create(
        self,
        *,
        given_id: str,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        source: dict[str, Any],
        metadata: dict[str, str],
    ) -> GatewayPayment: ...

    def payment_fetch(self, *, gateway_id: str) -> GatewayPayment: ...

    def payment_capture(self, *, gateway_id: str, amount: int | None = None) -> GatewayPayment: ...

    def payment_refund(self, *, gateway_id: str, amount: int | None = None) -> GatewayPayment: ...

    def payment_void(self, *, gateway_id: str) -> GatewayPayment: ...
