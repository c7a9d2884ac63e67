"""Fake WhatsApp Cloud API: ``POST /{version}/{phone_number_id}/messages`` (template messages) and signed
status webhooks.

- Auth: ``Authorization: Bearer <access_token>``; anything else is 401 with code 190.
- The phone number id must be the configured one (else 400, code 100). The body must be a template
  message (``messaging_product: whatsapp``, ``type: template``, ``to`` digits only). With ``templates``
  configured ({name: {language: body parameter count}}), an unknown name or language is 400 code 132001
  and a wrong parameter count 400 code 132000; without it any template is accepted.
- Success: ``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id":
  "wamid.…"}]}``; the message is recorded. Its ``biz_opaque_callback_data`` (a string of at most 512
  characters, else 400 code 100) is echoed in each of its status webhooks, as Meta does.
- Errors are Meta's shape, ``{"error": {"message": "(#code) …", "type", "code", "error_data",
  "fbtrace_id"}}``; HTTP statuses follow third-party mirrors (the code is what counts).

Switches: ``not_on_whatsapp`` (numbers answered 400 code 131026), ``rate_limit_next`` n (429 code
130429), ``outage`` (503 code 2 until turned off), ``auto_statuses`` (statuses delivered in the background
after each accepted message, e.g. ["sent", "delivered"]), ``out_of_order`` (those are delivered last
first), ``webhook_retries`` (an auto status not answered 200 is posted again 1 s later, up to that many
times, as Meta retries), ``webhook_url`` and ``app_secret``. ``deliver_statuses(wamid, [...])`` delivers
any statuses now, each its own POST (or one batched payload), signed ``X-Hub-Signature-256: sha256=<hex
HMAC-SHA256(app secret, raw body)>``. ``subscribe(verify_token)`` makes Meta's subscription GET to it.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from .base import ControlError, FakeProvider, Request, Response, _count, _flag, control_object

DEFAULT_ACCESS_TOKEN = "fake-whatsapp-token"  # noqa: S105 (a fake's well-known test credential)
DEFAULT_PHONE_NUMBER_ID = "100000000000001"
DEFAULT_APP_SECRET = "fake-whatsapp-app-secret"  # noqa: S105
DEFAULT_VERSION = "v21.0"
DEFAULT_WABA_ID = "200000000000002"
DISPLAY_PHONE_NUMBER = "966110000000"
STATUSES = ("sent", "delivered", "read", "failed")
UNDELIVERABLE_ERROR = {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}
_STATUS_CODES = {400: 100, 401: 190, 403: 368, 429: 130429, 500: 131000, 503: 2}
_DIGITS = re.compile(r"[0-9]{8,15}")


def _numbers(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ControlError("must be a list of phone numbers")
    return [item.removeprefix("+") for item in value]


def _statuses(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(item in STATUSES for item in value):
        raise ControlError(f"must be a list of {', '.join(STATUSES)}")
    return list(value)


def _optional_url(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.startswith(("http://", "https://"))):
        return value
    raise ControlError("must be an http(s) URL or null")


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ControlError("must be a string")
    return value


def _templates(value: Any) -> dict[str, dict[str, int]] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(languages, dict) and all(isinstance(count, int) for count in languages.values())
        for languages in value.values()
    ):
        raise ControlError("must map template names to {language: parameter count}, or be null")
    return copy.deepcopy(value)


class FakeWhatsApp(FakeProvider):
    name = "whatsapp"
    prefix = ""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        version: str = DEFAULT_VERSION,
        webhook_url: str | None = None,
        app_secret: str = DEFAULT_APP_SECRET,
        templates: dict[str, dict[str, int]] | None = None,
        webhook_timeout: float = 3.0,
        **options: Any,
    ) -> None:
        super().__init__(host, port, **options)
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.version = version
        self.webhook_timeout = webhook_timeout
        self.add_setting("webhook_url", _optional_url, webhook_url)
        self.add_setting("app_secret", _string, app_secret)
        self.add_setting("templates", _templates, templates)
        self.add_setting("not_on_whatsapp", _numbers, [])
        self.add_setting("rate_limit_next", _count, 0)
        self.add_setting("outage", _flag, False)
        self.add_setting("auto_statuses", _statuses, [])
        self.add_setting("out_of_order", _flag, False)
        self.add_setting("webhook_retries", _count, 0)
        self._messages: list[dict[str, Any]] = []
        self._deliveries: list[dict[str, Any]] = []
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._sequence = itertools.count(1)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback receivers
        self.add_route(
            "POST", r"/(?P<version>v[0-9]+\.[0-9]+)/(?P<phone_number_id>[^/]+)/messages", self._send
        )
        self.add_control_route("GET", "/messages", lambda request: Response(200, self.messages()))
        self.add_control_route("POST", "/statuses", self._control_statuses)
        self.add_control_route("GET", "/webhooks", lambda request: Response(200, self.webhooks()))
        self.add_control_route("POST", "/subscribe", self._control_subscribe)

    @property
    def url(self) -> str:
        """WHATSAPP_BASE_URL: the root and the Graph API version."""
        return f"{self.root_url}/{self.version}"

    # -- provider hooks ----------------------------------------------------------------------------

    def error_body(self, status: int, message: str, code: int | None = None) -> Any:
        code = code if code is not None else _STATUS_CODES.get(status, 1)
        return {
            "error": {
                "message": f"(#{code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": secrets.token_urlsafe(12),
            }
        }

    def check_auth(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self.access_token.encode()):
            return None
        return Response(401, self.error_body(401, "Error validating access token", 190))

    def _reset_state(self) -> None:
        self._messages.clear()
        self._deliveries.clear()

    # -- Python API for tests ----------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._messages)

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook delivery: ``payload``, ``signature``, ``status`` (HTTP, None if unreachable),
        ``error``."""
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def wait_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until the background (auto) status deliveries are done."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def deliver_statuses(
        self,
        wamid: str,
        statuses: list[str],
        *,
        errors: list[dict[str, Any]] | None = None,
        batch: bool = False,
    ) -> list[dict[str, Any]]:
        """POST these statuses of message ``wamid`` to the webhook URL now, in the order given (each its
        own payload, or all in one with ``batch``); a ``failed`` status carries ``errors`` (default:
        131026 undeliverable). Returns the delivery records."""
        _statuses(statuses)
        with self._lock:
            message = next((item for item in self._messages if item["wamid"] == wamid), {})
        recipient, callback = message.get("to", DISPLAY_PHONE_NUMBER), message.get("callback_data")
        items = [self._status_item(wamid, status, recipient, errors, callback) for status in statuses]
        payloads = [self._payload(items)] if batch else [self._payload([item]) for item in items]
        return [self._deliver(payload) for payload in payloads]

    def subscribe(self, verify_token: str, challenge: str | None = None) -> dict[str, Any]:
        """Meta's subscription check: GET the webhook URL with hub.mode=subscribe, hub.challenge and
        hub.verify_token. ``verified`` is true when the answer is 200 with the challenge echoed."""
        url = self._webhook_url()
        challenge = challenge or str(secrets.randbelow(10**9))
        query = urlencode(
            {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
        )
        status, text = None, ""
        try:
            with self._opener.open(f"{url}?{query}", timeout=self.webhook_timeout) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            pass
        return {"status": status, "verified": status == 200 and text == challenge}

    # -- the API ---------------------------------------------------------------------------------

    def _send(self, request: Request) -> Response:
        if request.params["phone_number_id"] != self.phone_number_id:
            unknown = request.params["phone_number_id"]
            text = f"Unsupported post request. Object with ID '{unknown}' does not exist"
            return Response(400, self.error_body(400, text, 100))
        body = request.body if isinstance(request.body, dict) else {}
        template = body.get("template") if isinstance(body.get("template"), dict) else {}
        to = str(body.get("to", "")).removeprefix("+")
        if body.get("messaging_product") != "whatsapp" or body.get("type") != "template" or not template:
            return Response(
                400, self.error_body(400, "Invalid parameter: a template message is expected", 100)
            )
        if not _DIGITS.fullmatch(to):
            return Response(400, self.error_body(400, "Invalid parameter: to", 100))
        callback = body.get("biz_opaque_callback_data")
        if callback is not None and not (isinstance(callback, str) and len(callback) <= 512):
            return Response(400, self.error_body(400, "Invalid parameter: biz_opaque_callback_data", 100))
        name = template.get("name")
        language = (
            (template.get("language") or {}).get("code")
            if isinstance(template.get("language"), dict)
            else None
        )
        parameters = _body_parameters(template)

        with self._lock:
            settings = self._settings
            if settings["rate_limit_next"] > 0:
                settings["rate_limit_next"] -= 1
                return Response(429, self.error_body(429, "Rate limit hit", 130429))
            if settings["outage"]:
                return Response(503, self.error_body(503, "Service temporarily unavailable", 2))
            if to in settings["not_on_whatsapp"]:
                return Response(400, self.error_body(400, "Message Undeliverable.", 131026))
            templates = settings["templates"]
            if templates is not None:
                counts = templates.get(name) or {}
                if language not in counts:
                    text = "Template name does not exist in the translation"
                    return Response(400, self.error_body(400, text, 132001))
                if counts[language] != len(parameters):
                    text = "Number of parameters does not match the expected number of params"
                    return Response(400, self.error_body(400, text, 132000))
            wamid = f"wamid.FAKE{next(self._sequence):012d}{secrets.token_hex(8).upper()}"
            self._messages.append(
                {"wamid": wamid, "to": to, "template": name, "language": language, "parameters": parameters}
                | ({"callback_data": callback} if callback is not None else {})
            )
            auto = list(settings["auto_statuses"])
            if settings["out_of_order"]:
                auto.reverse()
            if auto:
                self._pending += 1
        if auto:
            threading.Thread(target=self._deliver_auto, args=(wamid, auto), daemon=True).start()
        return Response(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            },
        )

    def _deliver_auto(self, wamid: str, statuses: list[str]) -> None:
        try:
            for status in statuses:  # each until answered 200, as Meta retries (here 1 s apart)
                for attempt in range(1 + self.setting("webhook_retries")):
                    time.sleep(1 if attempt else 0)
                    if self.deliver_statuses(wamid, [status])[0]["status"] == 200:
                        break
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    # -- webhooks --------------------------------------------------------------------------------

    def _status_item(
        self, wamid: str, status: str, recipient: str, errors: list[dict[str, Any]] | None, callback: Any
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": recipient,
        }
        if callback is not None:
            item["biz_opaque_callback_data"] = callback
        if status in ("sent", "delivered"):
            item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
        if status == "failed":
            item["errors"] = copy.deepcopy(errors) if errors is not None else [UNDELIVERABLE_ERROR]
        return item

    def _payload(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": DISPLAY_PHONE_NUMBER,
                "phone_number_id": self.phone_number_id,
            },
            "statuses": statuses,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": DEFAULT_WABA_ID, "changes": [{"field": "messages", "value": value}]}],
        }

    def _webhook_url(self) -> str:
        url = self.setting("webhook_url")
        if url is None:
            raise ControlError("no webhook_url configured", status=409)
        return url

    def _deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        url = self._webhook_url()
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        signature = "sha256=" + hmac.new(self.setting("app_secret").encode(), raw, hashlib.sha256).hexdigest()
        post = urllib.request.Request(  # noqa: S310 (webhook_url is validated to be http(s))
            url,
            data=raw,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "facebookexternalua",
                "X-Hub-Signature-256": signature,
            },
            method="POST",
        )
        status, error = None, None
        try:
            with self._opener.open(post, timeout=self.webhook_timeout) as answer:
                status = answer.status
        except urllib.error.HTTPError as failure:
            status = failure.code
        except OSError as failure:
            error = type(failure).__name__
        record = {"payload": payload, "signature": signature, "status": status, "error": error}
        with self._lock:
            self._deliveries.append(record)
        return copy.deepcopy(record)

    # -- control ---------------------------------------------------------------------------------

    def _control_statuses(self, request: Request) -> Response:
        body = control_object(request)
        wamid, statuses = body.get("wamid"), body.get("statuses")
        if not isinstance(wamid, str) or not wamid:
            raise ControlError("wamid must be a message id")
        errors, batch = body.get("errors"), body.get("batch", False)
        if errors is not None and not isinstance(errors, list):
            raise ControlError("errors must be a list or null")
        try:
            statuses, batch = _statuses(statuses), _flag(batch)
        except ControlError as error:
            raise ControlError(f"statuses and batch: {error}") from None
        return Response(200, self.deliver_statuses(wamid, statuses, errors=errors, batch=batch))

    def _control_subscribe(self, request: Request) -> Response:
        token = control_object(request).get("verify_token")
        return Response(200, self.subscribe(_string(token)))


def _body_parameters(template: dict[str, Any]) -> list[str]:
    for component in template.get("components") or []:
        if isinstance(component, dict) and component.get("type") == "body":
            return [
                str(parameter.get("text", ""))
                for parameter in component.get("parameters") or []
                if isinstance(parameter, dict)
            ]
    return []
