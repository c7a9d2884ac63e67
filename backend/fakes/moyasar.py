"""Fake Moyasar (payments): ``/v1/payments`` with capture, refund and void, plus webhooks.

Choices where Moyasar documents nothing (see README): card-like sources (``creditcard``, ``token``,
``stcpay``) start ``initiated`` and wait for the 3-D Secure stand-in (``/_control/3ds/<id>``) or the
``complete`` control call; wallets (``applepay``, ``samsungpay``) settle at creation, like a real wallet
payment does. A source ``token`` starting with ``decline_prefix``, or ``metadata.fake_decline``
(true or the decline message), makes the payment end ``failed``.
"""

from __future__ import annotations

import base64
import copy
import hmac
import html
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .base import ControlError, FakeProvider, Request, Response, control_object, utc_now_iso

DEFAULT_SECRET_KEY = "sk_test_fake"  # noqa: S105 (a fake's well-known test credential)
DEFAULT_WEBHOOK_SECRET = "fake-webhook-secret"  # noqa: S105
DEFAULT_ACCOUNT_NAME = "Fake Salon"
DEFAULT_DECLINE_PREFIX = "token_decline"

SOURCE_TYPES = ("creditcard", "token", "applepay", "stcpay", "samsungpay")
WALLET_TYPES = ("applepay", "samsungpay")  # no 3-D Secure step: the outcome is known at creation
COMPLETION_STATUSES = ("paid", "failed", "authorized")
MAX_METADATA_KEYS = 30

_UUID_ID = r"/payments/(?P<id>[^/]+)"
_STCPAY_MOBILE = re.compile(r"05\d{8}")
_CURRENCY = re.compile(r"[A-Z]{3}")

Errors = dict[str, list[str]]


@dataclass
class _Payment:
    data: dict[str, Any]  # the API object, exactly as served
    manual: bool  # source.manual: completion authorizes only
    decline: str | None  # the decline message when the source or metadata asks for a decline


class FakeMoyasar(FakeProvider):
    name = "moyasar"
    prefix = "/v1"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        secret_key: str = DEFAULT_SECRET_KEY,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        account_name: str = DEFAULT_ACCOUNT_NAME,
        decline_prefix: str = DEFAULT_DECLINE_PREFIX,
        webhook_timeout: float = 3.0,
        **options: Any,
    ) -> None:
        super().__init__(host, port, **options)
        self.secret_key = secret_key
        self.account_name = account_name
        self.decline_prefix = decline_prefix
        self.webhook_timeout = webhook_timeout
        self.add_setting("webhook_url", _optional_url, webhook_url)
        self.add_setting("webhook_secret", _string, webhook_secret)
        self._payments: dict[str, _Payment] = {}
        self._events: list[dict[str, Any]] = []  # {"event": envelope, "deliveries": [...]}
        self._pending_deliveries = 0
        self._deliveries_done = threading.Condition(self._lock)
        # Webhooks posted without a proxy: loopback receivers must be reached directly.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        self.add_route("POST", "/payments", self._create)
        self.add_route("GET", "/payments", self._list)
        self.add_route("GET", _UUID_ID, self._fetch)
        self.add_route("POST", _UUID_ID + "/capture", self._capture)
        self.add_route("POST", _UUID_ID + "/refund", self._refund)
        self.add_route("POST", _UUID_ID + "/void", self._void)
        self.add_control_route("POST", _UUID_ID + "/complete", self._control_complete)
        self.add_control_route("GET", "/3ds/(?P<id>[^/]+)", self._three_ds_page)
        self.add_control_route("POST", "/3ds/(?P<id>[^/]+)", self._three_ds_submit)
        self.add_control_route("GET", "/webhooks", lambda request: Response(200, self.webhooks()))
        self.add_control_route("POST", "/webhooks/replay/(?P<event_id>[^/]+)", self._control_replay)

    # -- provider hooks ----------------------------------------------------------------------------

    def error_body(self, status: int, message: str, errors: Errors | None = None) -> Any:
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(status)
        if kind is None:
            kind = "api_error" if status >= 500 else "invalid_request_error"
        return {"type": kind, "message": message, "errors": errors}

    def check_auth(self, request: Request) -> Response | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            username, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # bad base64 or bad UTF-8
            username, colon, password = "", "", ""
        secret_ok = hmac.compare_digest(username.encode(), self.secret_key.encode())
        if scheme.lower() == "basic" and colon and not password and secret_ok:
            return None
        return Response(401, self.error_body(401, "Invalid authorization credentials"))

    def _reset_state(self) -> None:
        self._payments.clear()
        self._events.clear()

    # -- Python API for tests --------------------------------------------------------------------

    def payment(self, payment_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._payments.get(payment_id)
            return copy.deepcopy(found.data) if found else None

    def payments(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p.data) for p in self._payments.values()]

    def complete(
        self, payment_id: str, status: str | None = None, message: str | None = None, webhook: bool = True
    ) -> dict[str, Any]:
        """Finish an ``initiated`` payment, as the payer passing (or failing) 3-D Secure would.

        ``status`` None means the natural outcome (``failed`` for decline hints, ``authorized`` for
        manual payments, else ``paid``); ``paid`` on a manual payment becomes ``authorized``. With
        ``webhook`` and a webhook URL configured, the event is delivered before this returns.
        """
        if status is not None and status not in COMPLETION_STATUSES:
            raise ControlError(f"status must be one of {', '.join(COMPLETION_STATUSES)}")
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                raise ControlError(f"no payment {payment_id}", status=404)
            if payment.data["status"] != "initiated":
                raise ControlError(f"payment is {payment.data['status']}, only initiated ones complete", 409)
            self._settle(payment, status, message)
            event_type = f"payment_{payment.data['status']}"
            record = self._new_event(payment.data, event_type) if webhook else None
            snapshot = copy.deepcopy(payment.data)
        if record is not None:
            self._deliver(record)
        return snapshot

    def webhooks(self) -> list[dict[str, Any]]:
        """Events emitted, oldest first, each ``{"event": envelope, "deliveries": [...]}``."""
        with self._lock:
            return copy.deepcopy(self._events)

    def replay_webhook(self, event_id: str) -> dict[str, Any]:
        """Deliver a past event again, same envelope and id (receivers must dedupe); returns the delivery."""
        with self._lock:
            record = next((r for r in self._events if r["event"]["id"] == event_id), None)
            if record is None:
                raise ControlError(f"no event {event_id}", status=404)
            if self._settings["webhook_url"] is None:
                raise ControlError("no webhook_url configured")
        return self._deliver(record)

    def wait_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until the webhooks sent in the background (refund, capture, void, wallets) are delivered."""
        with self._deliveries_done:
            return self._deliveries_done.wait_for(lambda: self._pending_deliveries == 0, timeout)

    # -- provider routes ---------------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        body = request.body
        if not isinstance(body, dict):
            return self._invalid({"base": ["must be a JSON object"]})
        errors = _validate_payment(body)
        if errors:
            return self._invalid(errors)
        given_id = body.get("given_id")
        payment_id = str(uuid.UUID(given_id)) if given_id else str(uuid.uuid4())
        with self._lock:
            if payment_id in self._payments:
                return Response(400, {"type": "used_given_id", "message": "Given ID is used", "errors": None})
            payment = self._new_payment(payment_id, body)
            self._payments[payment_id] = payment
            if payment.data["source"]["type"] not in WALLET_TYPES:
                return Response(201, copy.deepcopy(payment.data))
            self._settle(payment, None, None)
            return Response(201, self._changed(payment.data, f"payment_{payment.data['status']}"))

    def _list(self, request: Request) -> Response:
        listed = list(reversed(self.payments()))  # newest first, like Moyasar
        meta = {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1}
        return Response(200, {"payments": listed, "meta": {**meta, "total_count": len(listed)}})

    def _fetch(self, request: Request) -> Response:
        found = self.payment(request.params["id"])
        return Response(200, found) if found else self._not_found()

    def _capture(self, request: Request) -> Response:
        with self._lock:
            data = self._payment_in_state(request, "captured", lambda data: data["status"] == "authorized")
            if isinstance(data, Response):
                return data
            amount = self._requested_amount(request, data["amount"])
            if isinstance(amount, Response):
                return amount
            data.update(status="captured", captured=amount, captured_at=utc_now_iso())
            return Response(200, self._changed(data, "payment_captured"))

    def _refund(self, request: Request) -> Response:
        with self._lock:
            data = self._payment_in_state(
                request, "refunded", lambda data: data["status"] in ("paid", "captured")
            )
            if isinstance(data, Response):
                return data
            amount = self._requested_amount(request, _refundable(data))
            if isinstance(amount, Response):
                return amount
            data.update(refunded=data["refunded"] + amount, refunded_at=utc_now_iso())
            if _refundable(data) == 0:
                data["status"] = "refunded"  # a partial refund leaves the status as it was, as Moyasar does
            return Response(200, self._changed(data, "payment_refunded"))

    def _void(self, request: Request) -> Response:
        def voidable(data: dict[str, Any]) -> bool:
            # "Before settlement": the fake treats an authorized or paid, never refunded payment as unsettled.
            return data["status"] == "authorized" or (data["status"] == "paid" and not data["refunded"])

        with self._lock:
            data = self._payment_in_state(request, "voided", voidable)
            if isinstance(data, Response):
                return data
            data.update(status="voided", voided_at=utc_now_iso())
            return Response(200, self._changed(data, "payment_voided"))

    def _payment_in_state(
        self, request: Request, outcome: str, allowed: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | Response:
        """The stored payment of the route, or the 404/400 answer when it cannot become ``outcome``."""
        payment = self._payments.get(request.params["id"])
        if payment is None:
            return self._not_found()
        if not allowed(payment.data):
            return Response(
                400, self.error_body(400, f"Payment is {payment.data['status']} and cannot be {outcome}")
            )
        return payment.data

    def _requested_amount(self, request: Request, most: int) -> int | Response:
        """The optional ``amount`` of a capture or refund (default: all of ``most``), or the 400 answer."""
        body = request.body if request.body is not None else {}
        if not isinstance(body, dict):
            return self._invalid({"base": ["must be a JSON object"]})
        amount = body.get("amount", most)
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= most:
            return self._invalid({"amount": [f"must be a positive integer up to {most}"]})
        return amount

    def _changed(self, data: dict[str, Any], event_type: str) -> dict[str, Any]:
        """After an API change (under the lock): stamp it, emit its webhook in the background, snapshot it."""
        data["updated_at"] = utc_now_iso()
        self._deliver_later(self._new_event(data, event_type))
        return copy.deepcopy(data)

    def _invalid(self, errors: Errors) -> Response:
        return Response(400, self.error_body(400, "Validation Failed", errors))

    def _not_found(self) -> Response:
        return Response(404, self.error_body(404, "Object not found"))

    # -- control routes ----------------------------------------------------------------------------

    def _control_complete(self, request: Request) -> Response:
        body = control_object(request)
        webhook, message = body.get("webhook", True), body.get("message")
        if not isinstance(webhook, bool):
            raise ControlError("webhook must be true or false")
        if message is not None and not isinstance(message, str):
            raise ControlError("message must be a string")
        return Response(200, self.complete(request.params["id"], body.get("status"), message, webhook))

    def _control_replay(self, request: Request) -> Response:
        return Response(200, self.replay_webhook(request.params["event_id"]))

    def _three_ds_page(self, request: Request) -> Response:
        payment = self.payment(request.params["id"])
        if payment is None:
            raise ControlError("no such payment", status=404)
        payment_id = html.escape(payment["id"])
        page = (
            f"<!doctype html><title>Fake 3-D Secure</title><h1>Fake 3-D Secure</h1>"
            f"<p>Payment {payment_id}: {payment['amount']} {html.escape(payment['currency'])}, "
            f"status {payment['status']}</p>"
            f'<form method="post"><button name="status" value="paid">Authenticate</button>'
            f'<button name="status" value="failed">Fail</button></form>'
        )
        return Response(200, page, content_type="text/html")

    def _three_ds_submit(self, request: Request) -> Response:
        """The payer's answer: complete, then send them back to callback_url as Moyasar does."""
        form = request.body if isinstance(request.body, dict) else {}
        payment = self.complete(request.params["id"], form.get("status") or None)
        callback_url = payment["callback_url"]
        if not callback_url:
            return Response(
                200, f"<p>Payment {html.escape(payment['id'])} is {payment['status']}.</p>", "text/html"
            )
        query = urlencode(
            {"id": payment["id"], "status": payment["status"], "message": payment["source"]["message"]}
        )
        separator = "&" if "?" in callback_url else "?"
        return Response(302, headers={"Location": f"{callback_url}{separator}{query}"})

    # -- payments and events -------------------------------------------------------------------------

    def _new_payment(self, payment_id: str, body: dict[str, Any]) -> _Payment:
        source_in: dict[str, Any] = body["source"]
        source_type = source_in["type"]
        last4 = str(source_in.get("number", "4111111111111111"))[-4:]
        source: dict[str, Any] = {
            "type": source_type,
            "company": None if source_type == "stcpay" else _card_company(source_in),
            "name": source_in.get("name") or ("FAKE CARDHOLDER" if source_type == "token" else None),
            "number": None if source_type == "stcpay" else f"XXXX-XXXX-XXXX-{last4}",
            "message": None,
            "transaction_url": None,
            "gateway_id": f"moyasar_{source_type}_{secrets.token_hex(8)}",
            "reference_number": f"{secrets.randbelow(10**12):012d}",
        }
        if source_type == "stcpay":
            source["mobile"] = source_in["mobile"]
        if source_type not in WALLET_TYPES:
            source["transaction_url"] = f"{self.root_url}/_control/3ds/{payment_id}"
        now = utc_now_iso()
        data = {
            "id": payment_id,
            "status": "initiated",
            "amount": body["amount"],
            "fee": 0,
            "currency": body["currency"],
            "refunded": 0,
            "refunded_at": None,
            "captured": 0,
            "captured_at": None,
            "voided_at": None,
            "description": body.get("description"),
            "invoice_id": None,
            "ip": None,
            "callback_url": body.get("callback_url"),
            "created_at": now,
            "updated_at": now,
            "source": source,
            "metadata": body.get("metadata"),
        }
        return _Payment(data, bool(source_in.get("manual")), self._decline_reason(source_in, body))

    def _decline_reason(self, source: dict[str, Any], body: dict[str, Any]) -> str | None:
        hint = (body.get("metadata") or {}).get("fake_decline")
        if isinstance(hint, str) and hint:
            return hint
        if hint or str(source.get("token", "")).startswith(self.decline_prefix):
            return "Declined"
        return None

    def _settle(self, payment: _Payment, status: str | None, message: str | None) -> None:
        """Move an initiated payment to its outcome; called under the lock."""
        if status is None:
            status = "failed" if payment.decline else "paid"
        if status == "paid" and payment.manual:
            status = "authorized"
        if message is None:
            message = (payment.decline or "Declined") if status == "failed" else "APPROVED"
        payment.data["status"] = status
        payment.data["source"]["message"] = message
        payment.data["updated_at"] = utc_now_iso()

    def _new_event(self, data: dict[str, Any], event_type: str) -> dict[str, Any] | None:
        """Record the webhook event about payment ``data`` (None without a webhook URL); under the lock."""
        if self._settings["webhook_url"] is None:
            return None
        envelope = {
            "id": str(uuid.uuid4()),
            "type": event_type,
            "created_at": utc_now_iso(),
            "secret_token": self._settings["webhook_secret"],
            "account_name": self.account_name,
            "live": False,
            "data": copy.deepcopy(data),
        }
        record: dict[str, Any] = {"event": envelope, "deliveries": []}
        self._events.append(record)
        return record

    def _deliver_later(self, record: dict[str, Any] | None) -> None:
        """Deliver in the background, as Moyasar does: the API answer never waits on our receiver."""
        if record is None:
            return
        with self._lock:
            self._pending_deliveries += 1

        def run() -> None:
            try:
                self._deliver(record)
            finally:
                with self._deliveries_done:
                    self._pending_deliveries -= 1
                    self._deliveries_done.notify_all()

        threading.Thread(target=run, name="fake-moyasar-webhook", daemon=True).start()

    def _deliver(self, record: dict[str, Any]) -> dict[str, Any]:
        """POST the envelope to the webhook URL once; the outcome is appended to the record's deliveries."""
        with self._lock:
            url = self._settings["webhook_url"]
        status: int | None = None
        error: str | None = None
        if url is None:
            error = "no webhook_url configured"
        else:
            post = urllib.request.Request(  # noqa: S310 (webhook_url is validated to be http(s))
                url,
                data=json.dumps(record["event"]).encode(),
                headers={"Content-Type": "application/json", "User-Agent": "fake-moyasar-webhooks"},
                method="POST",
            )
            try:
                with self._opener.open(post, timeout=self.webhook_timeout) as answer:
                    status = answer.status
            except urllib.error.HTTPError as refused:
                status = refused.code
                refused.close()
            except OSError as failure:  # refused connection, timeout, DNS...
                error = str(getattr(failure, "reason", failure))
        delivery = {"url": url, "status": status, "error": error, "at": utc_now_iso()}
        with self._lock:
            record["deliveries"].append(delivery)
        return dict(delivery)


def _refundable(data: dict[str, Any]) -> int:
    settled = data["captured"] if data["status"] == "captured" else data["amount"]
    return settled - data["refunded"]


def _card_company(source: dict[str, Any]) -> str:
    number = str(source.get("number", ""))
    if number.startswith(("34", "37")):
        return "amex"
    if number.startswith(("5", "2")):
        return "master"
    return "visa"


def _optional_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ControlError("must be an http(s) URL or null")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ControlError("must be a string")
    return value


def _as_int(value: Any) -> int | None:
    """Integers sent as numbers or digit strings (form-encoded clients send strings)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def _validate_payment(body: dict[str, Any]) -> Errors:
    errors: Errors = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    amount = body.get("amount")
    if amount is None:
        add("amount", "is required")
    elif isinstance(amount, bool) or not isinstance(amount, int):
        add("amount", "must be an integer")
    elif amount < 100:
        add("amount", "must be greater than or equal to 100")
    if not isinstance(body.get("currency"), str) or not _CURRENCY.fullmatch(body["currency"]):
        add("currency", "must be a 3-letter ISO code such as SAR")
    if body.get("description") is not None and not isinstance(body["description"], str):
        add("description", "must be a string")
    callback_url = body.get("callback_url")
    if callback_url is not None and (
        not isinstance(callback_url, str) or not callback_url.startswith(("http://", "https://"))
    ):
        add("callback_url", "must be an http(s) URL")
    given_id = body.get("given_id")
    if given_id is not None and not _is_uuid(given_id):
        add("given_id", "must be a UUID")
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            add("metadata", "must be an object")
        elif len(metadata) > MAX_METADATA_KEYS:
            add("metadata", f"must have at most {MAX_METADATA_KEYS} keys")
        elif not all(isinstance(v, str | int | float | bool) for v in metadata.values()):
            add("metadata", "values must be strings, numbers or booleans")
    source = body.get("source")
    if not isinstance(source, dict):
        add("source", "is required")
        return errors
    for field, message in _source_errors(source):
        add(f"source.{field}", message)
    if source.get("type") in ("creditcard", "token") and not callback_url:
        add("callback_url", "is required for 3-D Secure")
    return errors


def _source_errors(source: dict[str, Any]) -> list[tuple[str, str]]:
    source_type = source.get("type")
    if source_type not in SOURCE_TYPES:
        return [("type", f"must be one of {', '.join(SOURCE_TYPES)}")]
    problems = []
    if "manual" in source and not isinstance(source["manual"], bool):
        problems.append(("manual", "must be true or false"))
    if source_type == "stcpay":
        if not isinstance(source.get("mobile"), str) or not _STCPAY_MOBILE.fullmatch(source["mobile"]):
            problems.append(("mobile", "must be a Saudi mobile number like 05XXXXXXXX"))
    elif source_type != "creditcard":
        if not isinstance(source.get("token"), str) or not source["token"]:
            problems.append(("token", "is required"))
    else:
        number = str(source.get("number", ""))
        if not isinstance(source.get("name"), str) or not source["name"].strip():
            problems.append(("name", "is required"))
        if not (number.isascii() and number.isdigit() and 13 <= len(number) <= 19 and _luhn_ok(number)):
            problems.append(("number", "is invalid"))
        if not re.fullmatch(r"\d{3,4}", str(source.get("cvc", ""))):
            problems.append(("cvc", "is invalid"))
        month = _as_int(source.get("month"))
        if month is None or not 1 <= month <= 12:
            problems.append(("month", "is invalid"))
        if _as_int(source.get("year")) is None:
            problems.append(("year", "is invalid"))
    return problems
