"""Moyasar (payments): create, fetch, capture, refund and void a payment over `provider_call`.

Authentication is HTTP Basic with the secret key as the username and an empty password. Error bodies are
`{"type", "message", "errors"}`; the `type` becomes `ProviderError.code`.

Creation is idempotent through `given_id` (our payment's UUID, which Moyasar makes the payment's id): when
the answer to a create is lost (timeout, 5xx) the payment is looked up by that id (200: it exists; 404:
it was never made, so it is created once more), and `used_given_id` means it exists. Fetching is retried
(it changes nothing); capture, refund and void are not: their callers reconcile by fetching."""

from typing import Any

from django.conf import settings
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from backend.core.http import ProviderError, ProviderResponse, provider_call
from backend.providers.base import GatewayPayment

PROVIDER = "moyasar"
USED_GIVEN_ID = "used_given_id"
NOT_FOUND = 404
FETCH_ATTEMPTS = 2
FETCH_RETRY_PAUSE_SECONDS = 0.2


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("type"), str):
        return body["type"]
    return None


def _call(*, operation: str, method: str, path: str, json: dict[str, Any] | None = None) -> GatewayPayment:
    response: ProviderResponse = provider_call(
        provider=PROVIDER,
        operation=operation,
        method=method,
        url=settings.MOYASAR_BASE_URL.rstrip("/") + path,
        read_timeout=settings.MOYASAR_TIMEOUT_SECONDS,
        succeeded=lambda body: isinstance(body, dict) and isinstance(body.get("id"), str),
        error_code=_error_code,
        auth=(settings.MOYASAR_SECRET_KEY, ""),
        headers={"Accept": "application/json"},
        json=json,
    )
    return payment_from_body(response.body)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def payment_from_body(body: dict[str, Any]) -> GatewayPayment:
    """Moyasar's payment object (an API answer, or a webhook's `data`) as a GatewayPayment."""
    source = body.get("source") if isinstance(body.get("source"), dict) else {}
    return GatewayPayment(
        gateway_id=str(body["id"]),
        status=str(body.get("status") or ""),
        amount=_int(body.get("amount")),
        currency=str(body.get("currency") or ""),
        refunded=_int(body.get("refunded")),
        captured=_int(body.get("captured")),
        transaction_url=str(source.get("transaction_url") or ""),
        message=str(source.get("message") or ""),
        raw=body,
    )


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.retryable


def payment_fetch(*, gateway_id: str) -> GatewayPayment:
    """The payment as Moyasar has it now. Retried once on a retryable failure: a read changes nothing."""
    retrying = Retrying(
        retry=retry_if_exception(_is_retryable),
        stop=stop_after_attempt(FETCH_ATTEMPTS),
        wait=wait_fixed(FETCH_RETRY_PAUSE_SECONDS),
        reraise=True,
    )
    return retrying(_call, operation="fetch", method="GET", path=f"/payments/{gateway_id}")


def _fetch_if_exists(gateway_id: str) -> GatewayPayment | None:
    try:
        return payment_fetch(gateway_id=gateway_id)
    except ProviderError as error:
        if error.status == NOT_FOUND:
            return None
        raise


def _create_once(payload: dict[str, Any]) -> GatewayPayment:
    try:
        return _call(operation="create", method="POST", path="/payments", json=payload)
    except ProviderError as error:
        if error.code == USED_GIVEN_ID:  # made by an earlier attempt whose answer we lost
            return payment_fetch(gateway_id=payload["given_id"])
        raise


def payment_create(
    *,
    given_id: str,
    amount: int,
    currency: str,
    description: str,
    callback_url: str,
    source: dict[str, Any],
    metadata: dict[str, str],
) -> GatewayPayment:
    """Creates the payment `given_id` (a UUID), or returns it if it already exists."""
    payload = {
        "given_id": given_id,
        "amount": amount,
        "currency": currency,
        "description": description,
        "callback_url": callback_url,
        "source": source,
        "metadata": metadata,
    }
    try:
        return _create_once(payload)
    except ProviderError as error:
        if not error.retryable:
            raise
    # The answer was lost: the payment may exist. 404 means it was never made, so one more create is safe.
    existing = _fetch_if_exists(given_id)
    return existing if existing is not None else _create_once(payload)


def payment_capture(*, gateway_id: str, amount: int | None = None) -> GatewayPayment:
    body = {"amount": amount} if amount is not None else {}
    return _call(operation="capture", method="POST", path=f"/payments/{gateway_id}/capture", json=body)


def payment_refund(*, gateway_id: str, amount: int | None = None) -> GatewayPayment:
    body = {"amount": amount} if amount is not None else {}
    return _call(operation="refund", method="POST", path=f"/payments/{gateway_id}/refund", json=body)


def payment_void(*, gateway_id: str) -> GatewayPayment:
    return _call(operation="void", method="POST", path=f"/payments/{gateway_id}/void")
