"""Fake Authentica (OTP and SMS): ``POST /api/v2/send-otp``, ``/verify-otp``, ``/send-sms``.

Documented: the ``X-Authorization`` key, the 401 body and the success bodies. Invented, because upstream
documents nothing else: validation failures answer 422 ``{"success": false, "message": ...}`` and a wrong
code at verify-otp answers 400 ``{"status": false, "message": "Invalid OTP"}``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any

from .base import ControlError, OutboxFake, Request, Response, RouteHandler, utc_now_iso

DEFAULT_API_KEY = "test-authentica-key"
METHODS = ("sms", "whatsapp", "email")

_E164 = re.compile(r"\+[1-9]\d{7,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CODE = re.compile(r"\d{4,10}")


class _Invalid(Exception):
    """A request field Authentica would refuse: answered 422."""


class FakeAuthentica(OutboxFake):
    name = "authentica"
    prefix = "/api/v2"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, api_key: str = DEFAULT_API_KEY, **options: Any
    ) -> None:
        super().__init__(host, port, **options)
        self.api_key = api_key
        self._otps: dict[str, str] = {}  # last code sent, by phone or email
        self.add_route("POST", "/send-otp", self._validated(self._send_otp))
        self.add_route("POST", "/verify-otp", self._validated(self._verify_otp))
        self.add_route("POST", "/send-sms", self._validated(self._send_sms))
        self.add_control_route("GET", "/otp", self._control_otp)

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            return {"errors": [{"message": message}]}
        return {"success": False, "message": message}

    def check_auth(self, request: Request) -> Response | None:
        supplied = request.headers.get("x-authorization", "")
        if hmac.compare_digest(supplied.encode(), self.api_key.encode()):
            return None
        return Response(401, self.error_body(401, "Unauthorized"))

    def last_otp(self, recipient: str) -> str | None:
        """The last code sent to a phone (``+9665...``) or email address, None if none."""
        with self._lock:
            return self._otps.get(recipient)

    def _reset_state(self) -> None:
        super()._reset_state()
        self._otps.clear()

    # -- routes ------------------------------------------------------------------------------------

    def _validated(self, route: Callable[[dict[str, Any]], Response]) -> RouteHandler:
        """Wrap a route: a non-object body or an _Invalid field becomes Authentica's 422."""

        def handle(request: Request) -> Response:
            try:
                if not isinstance(request.body, dict):
                    raise _Invalid("The request body must be a JSON object.")
                return route(request.body)
            except _Invalid as error:
                return Response(422, self.error_body(422, str(error)))

        return handle

    def _send_otp(self, body: dict[str, Any]) -> Response:
        method = body.get("method")
        if method not in METHODS:
            raise _Invalid(f"The method field must be one of: {', '.join(METHODS)}.")
        recipient = _email(body, "email") if method == "email" else _phone(body, "phone")
        template_id = body.get("template_id", 1)
        if isinstance(template_id, bool) or not isinstance(template_id, int) or template_id < 1:
            raise _Invalid("The template id field must be a positive integer.")
        if body.get("fallback_phone") is not None:
            _phone(body, "fallback_phone")
        if body.get("fallback_email") is not None:
            _email(body, "fallback_email")
        code = _code(body) if body.get("otp") is not None else f"{secrets.randbelow(10**6):06d}"
        with self._lock:
            self._otps[recipient] = code
        self.record_message(
            {
                "kind": "otp",
                "method": method,
                "to": recipient,
                "otp": code,
                "template_id": template_id,
                "created_at": utc_now_iso(),
            }
        )
        return Response(200, {"success": True, "data": None, "message": "OTP send successfully"})

    def _verify_otp(self, body: dict[str, Any]) -> Response:
        recipient = _email(body, "email") if body.get("email") is not None else _phone(body, "phone")
        code = _code(body)
        with self._lock:
            expected = self._otps.get(recipient)
            if expected is None or not hmac.compare_digest(expected, code):
                return Response(400, {"status": False, "message": "Invalid OTP"})
            del self._otps[recipient]  # one-time
        return Response(200, {"status": True, "message": "OTP verified successfully"})

    def _send_sms(self, body: dict[str, Any]) -> Response:
        phone = _phone(body, "phone")
        message = _text(body, "message")
        sender_name = _text(body, "sender_name")
        self.record_message(
            {
                "kind": "sms",
                "to": phone,
                "message": message,
                "sender_name": sender_name,
                "created_at": utc_now_iso(),
            }
        )
        return Response(200, {"success": True, "message": "SMS sent successfully"})

    def _control_otp(self, request: Request) -> Response:
        if "email" in request.query:
            recipient = request.query["email"]
        elif "phone" in request.query:
            # An unencoded '+' in a hand-typed query string arrives as a space: accept both spellings.
            recipient = "+" + request.query["phone"].strip().lstrip("+")
        else:
            raise ControlError("pass ?phone=+9665... or ?email=...")
        code = self.last_otp(recipient)
        if code is None:
            raise ControlError(f"no OTP sent to {recipient}", status=404)
        return Response(200, {"recipient": recipient, "otp": code})


def _phone(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not _E164.fullmatch(value):
        raise _Invalid(
            f"The {key.replace('_', ' ')} field must be a phone number in E.164 format (+9665...)."
        )
    return value


def _email(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        raise _Invalid(f"The {key.replace('_', ' ')} field must be a valid email address.")
    return value


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"The {key.replace('_', ' ')} field is required.")
    return value


def _code(body: dict[str, Any]) -> str:
    value = body.get("otp")
    code = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _CODE.fullmatch(code):
        raise _Invalid("The otp field must be 4 to 10 digits.")
    return code
