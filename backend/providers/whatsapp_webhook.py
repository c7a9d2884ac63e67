"""The WhatsApp status webhook, as pure functions: the `X-Hub-Signature-256` check over the raw body, the
GET subscription challenge, the status payload read into records, and the order statuses may move in.

A view (a later step) takes the raw request body before any parsing, refuses it unless
`signature_valid`, then applies `parse_statuses` records one by one with `status_advances`.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SIGNATURE_PREFIX = "sha256="
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}
FAILED = "failed"
KNOWN_STATUSES = frozenset({*STATUS_RANK, FAILED})


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str  # sent, delivered, read, failed, or whatever else Meta sends (kept, never applied)
    timestamp: datetime | None
    recipient_id: str | None
    error_codes: tuple[int, ...]  # the `errors[].code` of a failed status
    callback_data: str = ""  # the `biz_opaque_callback_data` the message was sent with, echoed


def signature_valid(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """True when `header` is `sha256=<hex HMAC-SHA256(app_secret, raw_body)>`; compared in constant time.
    An empty app secret accepts nothing."""
    if not app_secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len(SIGNATURE_PREFIX) :].strip().lower().encode())


def sign(raw_body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta would send with `raw_body` (fakes and tests)."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def challenge_answer(query: Mapping[str, str], verify_token: str) -> str | None:
    """The text to answer a subscription GET with (its `hub.challenge`), or None to refuse it: the mode
    must be `subscribe` and `hub.verify_token` our WHATSAPP_VERIFY_TOKEN (an empty one refuses all)."""
    supplied = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if not verify_token or query.get("hub.mode") != "subscribe" or not supplied or challenge is None:
        return None
    if not hmac.compare_digest(supplied.encode(), verify_token.encode()):
        return None
    return challenge


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _error_codes(errors: Any) -> tuple[int, ...]:
    codes = []
    for error in _list(errors):
        code = _dict(error).get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            codes.append(code)
        elif isinstance(code, str) and code.isdigit():
            codes.append(int(code))
    return tuple(codes)


def parse_statuses(payload: Any) -> list[StatusUpdate]:
    """Every message status in a webhook payload, across batched entries and changes, in payload order.
    Unknown fields are ignored; changes that are not `messages` (or carry no statuses: inbound
    messages) and statuses without a wamid or status are skipped, never an error."""
    updates = []
    for entry in _list(_dict(payload).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            if change.get("field", "messages") != "messages":
                continue
            for status in _list(_dict(change.get("value")).get("statuses")):
                status = _dict(status)
                wamid, name = status.get("id"), status.get("status")
                if not isinstance(wamid, str) or not wamid or not isinstance(name, str) or not name:
                    continue
                recipient = status.get("recipient_id")
                callback_data = status.get("biz_opaque_callback_data")
                updates.append(
                    StatusUpdate(
                        wamid=wamid,
                        status=name,
                        timestamp=_timestamp(status.get("timestamp")),
                        recipient_id=str(recipient) if recipient is not None else None,
                        error_codes=_error_codes(status.get("errors")),
                        callback_data=callback_data if isinstance(callback_data, str) else "",
                    )
                )
    return updates


def status_advances(current: str | None, incoming: str) -> bool:
    """Whether a message whose last applied status is `current` (None: none yet) takes `incoming`.
    Statuses only move forward, sent < delivered < read, so late or repeated webhooks change nothing.
    `failed` is taken only before anything was delivered (a `failed` after `delivered` would send the
    message again by another channel to someone who has it), and once `failed` is applied nothing
    follows: the message has moved on to the next channel, so a late `delivered` changes nothing.
    Statuses we do not know are never applied."""
    if incoming not in KNOWN_STATUSES or current == FAILED:
        return False
    if incoming == FAILED:
        return STATUS_RANK.get(current or "", 0) < STATUS_RANK["delivered"]
    return STATUS_RANK[incoming] > STATUS_RANK.get(current or "", 0)
