"""Fake Unifonic (SMS): ``POST /rest/SMS/messages``.

Fields come form-encoded (documented), as JSON (also documented) or in the query string (seen in
Unifonic's own examples); all three are accepted. Errors use Unifonic's non-standard HTTP codes and
``ER-xx`` codes: 402 ER-01 bad AppSid; 482 ER-02/ER-03/ER-04 malformed/too long/too short number;
400 ER-06 empty body. Injected failures with other statuses carry ``errorCode: "ER-<status>"``.

A ``CorrelationID`` already accepted is refused with 409 "This message is duplicate" (the status Unifonic's
HTTP status code list gives for it; its errorCode is not published, ``ER-09`` here) and nothing is sent.
"""

from __future__ import annotations

import hmac
import itertools
import math
import re
from datetime import UTC, datetime
from typing import Any

from .base import OutboxFake, Request, Response

DEFAULT_APP_SID = "test-unifonic-appsid"
DEFAULT_SENDER_ID = "FAKE"  # Unifonic uses the account's default sender when SenderID is omitted
BALANCE = 1000.0

_ERROR_CODES = {402: "ER-01", 482: "ER-02"}
_DIGITS = re.compile(r"[0-9]+")
_GSM_SAFE = re.compile(r"[\x20-\x7e\r\n]*")  # treated as 7-bit GSM; anything else (Arabic) is UCS-2


class FakeUnifonic(OutboxFake):
    name = "unifonic"
    prefix = ""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, app_sid: str = DEFAULT_APP_SID, **options: Any
    ) -> None:
        super().__init__(host, port, **options)
        self.app_sid = app_sid
        self._message_ids = itertools.count(1_000_001)
        self._correlation_ids: set[str] = set()
        self.add_route("POST", "/rest/SMS/messages", self._send)

    def error_body(self, status: int, message: str, code: str | None = None) -> Any:
        error_code = code or _ERROR_CODES.get(status, f"ER-{status}")
        return {"success": False, "message": message, "errorCode": error_code, "data": {}}

    def check_auth(self, request: Request) -> Response | None:
        supplied = _fields(request).get("AppSid", "")
        if supplied and hmac.compare_digest(supplied.encode(), self.app_sid.encode()):
            return None
        return Response(402, self.error_body(402, "Invalid AppSid"))

    def _send(self, request: Request) -> Response:
        fields = _fields(request)
        recipient = fields.get("Recipient", "").strip()
        refusal = _recipient_refusal(recipient)
        if refusal is not None:
            code, message = refusal
            return Response(482, self.error_body(482, message, code))
        text = fields.get("Body", "")
        if not text.strip():
            return Response(400, self.error_body(400, "Invalid or empty message body", "ER-06"))

        correlation_id = fields.get("CorrelationID")
        with self._lock:
            duplicate = correlation_id is not None and correlation_id in self._correlation_ids
            if correlation_id is not None:
                self._correlation_ids.add(correlation_id)
        if duplicate:
            return Response(409, self.error_body(409, "This message is duplicate", "ER-09"))

        message_id = next(self._message_ids)
        record = {
            "MessageID": message_id,
            "CorrelationID": correlation_id,
            "Status": "Sent",
            "NumberOfUnits": _units(text),
            "Cost": 0.0,
            "Balance": BALANCE,
            "Recipient": int(recipient),
            "DateCreated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        self.record_message({**record, "SenderID": fields.get("SenderID") or DEFAULT_SENDER_ID, "Body": text})
        return Response(200, {"success": True, "message": "", "errorCode": "ER-00", "data": record})

    def _reset_state(self) -> None:
        super()._reset_state()
        self._correlation_ids.clear()


def _fields(request: Request) -> dict[str, str]:
    body = request.body if isinstance(request.body, dict) else {}
    return {key: str(value) for key, value in {**request.query, **body}.items() if value is not None}


def _recipient_refusal(recipient: str) -> tuple[str, str] | None:
    """(errorCode, message) when Unifonic would refuse the number: it wants ``9665...`` only."""
    if not _DIGITS.fullmatch(recipient) or recipient.startswith("0"):
        return "ER-02", "Invalid destination number"
    if len(recipient) < 10:
        return "ER-04", "Dest num is too short"
    if len(recipient) > 15:
        return "ER-03", "Dest num is too long"
    return None


def _units(text: str) -> int:
    """SMS parts: 160/153 characters in GSM 7-bit, 70/67 in UCS-2 (single/concatenated)."""
    single, part = (160, 153) if _GSM_SAFE.fullmatch(text) else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / part)
