"""Firebase Cloud Messaging HTTP v1 (push): `POST {FCM_BASE_URL}/v1/projects/{FCM_PROJECT_ID}/messages:send`
with an OAuth2 bearer token, one message to one device token.

The token comes from the service-account JSON file FCM_CREDENTIALS_FILE through google-auth (it signs the
JWT-bearer assertion and POSTs it to the file's `token_uri`), over our own pooled session, timeouts and log
line. It is cached for the whole process until shortly before it expires (google-auth's refresh margin),
behind one lock: the notifications worker's threads share it and refresh it once. A 401 on a send means the
token went stale early (revoked, clock skew): it is refreshed once and the send retried once.

FCM has no idempotency key: a push resent after a crash between FCM's 200 and our record is delivered
twice. Each push therefore carries a collapse identity derived from our notification (`collapse_id`): the
Android `android.notification.tag` and the APNs `apns-collapse-id` header (at most 64 bytes), so a resend
REPLACES the first notification on the device instead of showing a second one (while the first is still
shown). Not `android.collapse_key`: FCM keeps at most 4 collapse keys per device while it is offline and
does not say which it drops, so a key per notification could lose pushes.

Answers: 200 `{"name": "projects/…/messages/…"}`; errors `{"error": {"code", "message", "status",
"details": [{"@type": "…FcmError", "errorCode": "UNREGISTERED"}, {"@type": "…BadRequest",
"fieldViolations": [{"field": "message.token", …}]}]}}`. Our classification:

- UNREGISTERED (404), and INVALID_ARGUMENT about the device token (our code `INVALID_REGISTRATION`):
  `RecipientUnreachable` with `forget_address`: the caller deletes the device and moves on.
- SENDER_ID_MISMATCH (403), THIRD_PARTY_AUTH_ERROR (401), other INVALID_ARGUMENT, a 401 that survives a
  fresh token, an unusable service-account file, a refused token grant: permanent `ProviderError`.
- QUOTA_EXCEEDED (429), INTERNAL (500), UNAVAILABLE (503), timeouts, connection failures: retryable
  `ProviderError`, with `retry_after` from the answer's Retry-After when FCM sends one.
"""

import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from google.auth import exceptions as google_exceptions
from google.auth import transport as google_transport
from google.oauth2 import service_account

from backend.core.http import ProviderError, _environment_proxies, provider_call, provider_session
from backend.providers.base import RecipientUnreachable, SendResult

logger = logging.getLogger("backend.core.http")  # the same log line as every other provider call

PROVIDER = "fcm"
SCOPES = ("https://www.googleapis.com/auth/firebase.messaging",)
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
INVALID_REGISTRATION = "INVALID_REGISTRATION"  # ours: INVALID_ARGUMENT about the device token
DEVICE_GONE_CODES = frozenset({"UNREGISTERED", INVALID_REGISTRATION})
THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"
MAX_COLLAPSE_ID_BYTES = 64  # APNs refuses a longer apns-collapse-id
SERVICE_ACCOUNT_FIELDS = ("type", "project_id", "private_key", "client_email", "token_uri")

_lock = threading.Lock()
_credentials: dict[str, service_account.Credentials] = {}  # by file path, for the life of the process


class _TokenResponse(google_transport.Response):
    def __init__(self, response: requests.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class _TokenRequest(google_transport.Request):
    """google-auth's transport over our pooled session: our (connect, read) timeouts whatever google-auth
    asks, and one log line per call like `provider_call`'s (never the assertion nor the token)."""

    def __init__(self, read_timeout: float) -> None:
        self.read_timeout = read_timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> _TokenResponse:
        parts = urlsplit(url)
        started = time.monotonic()
        status: int | str = "-"
        outcome = "ok"
        try:
            try:
                response = provider_session(PROVIDER).request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    timeout=(settings.PROVIDER_CONNECT_TIMEOUT_SECONDS, self.read_timeout),
                    proxies=_environment_proxies(parts.scheme, parts.netloc),
                )
            except requests.RequestException as error:
                outcome = "timeout" if isinstance(error, requests.Timeout) else "connection_error"
                raise google_exceptions.TransportError(type(error).__name__) from error
            status = response.status_code
            outcome = "ok" if response.ok else "http_error"
            return _TokenResponse(response)
        finally:
            logger.log(
                logging.INFO if outcome == "ok" else logging.WARNING,
                "provider=%s operation=%s status=%s latency_ms=%d outcome=%s",
                PROVIDER,
                "oauth_token",
                status,
                round((time.monotonic() - started) * 1000),
                outcome,
            )


def _service_account(path: str) -> service_account.Credentials:
    try:
        return service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
    except (OSError, ValueError, TypeError, KeyError) as error:
        # No path or key material in the message: it may be logged.
        raise ProviderError(
            PROVIDER,
            f"service-account file unusable ({type(error).__name__})",
            retryable=False,
            code="credentials_invalid",
        ) from error


def access_token(*, timeout: float, stale: str | None = None) -> str:
    """The process's OAuth2 access token for FCM, fetched at most once per expiry across threads. `stale`:
    a token FCM just refused; it is replaced unless another thread already did. Raises ProviderError."""
    path = settings.FCM_CREDENTIALS_FILE
    if not path:
        raise ProviderError(
            PROVIDER, "FCM_CREDENTIALS_FILE is not set", retryable=False, code="not_configured"
        )
    with _lock:
        credentials = _credentials.get(path)
        if credentials is None:
            credentials = _credentials[path] = _service_account(path)
        if credentials.valid and credentials.token != stale:
            return credentials.token
        try:
            credentials.refresh(_TokenRequest(timeout))
        except google_exceptions.TransportError as error:
            raise ProviderError(
                PROVIDER, "token endpoint unreachable", retryable=True, code="oauth_unreachable"
            ) from error
        except google_exceptions.RefreshError as error:
            # google-auth already retried a 429/5xx answer three times; `retryable` says which it was.
            raise ProviderError(
                PROVIDER, "token grant refused", retryable=bool(error.retryable), code="oauth_refused"
            ) from error
        return credentials.token


def forget_tokens() -> None:
    """Drops every cached credential and token (tests; a rotated key file is otherwise read at restart)."""
    with _lock:
        _credentials.clear()


def _details(body: Any) -> tuple[dict[str, Any], list[Any]]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return {}, []
    details = error.get("details")
    return error, details if isinstance(details, list) else []


def _about_the_token(error: dict[str, Any], details: list[Any]) -> bool:
    for detail in details:
        if isinstance(detail, dict) and detail.get("@type") == BAD_REQUEST_TYPE:
            violations = detail.get("fieldViolations")
            for violation in violations if isinstance(violations, list) else []:
                if isinstance(violation, dict) and violation.get("field") == "message.token":
                    return True
    message = str(error.get("message") or "").lower()
    return "registration token" in message or "invalid registration" in message


def error_code(body: Any) -> str | None:
    """FCM's `errorCode` (UNREGISTERED, QUOTA_EXCEEDED…), else the error's `status`; an INVALID_ARGUMENT
    that names the device token is INVALID_REGISTRATION. None when the body is not FCM's error shape."""
    error, details = _details(body)
    code = None
    for detail in details:
        if isinstance(detail, dict) and detail.get("@type") == FCM_ERROR_TYPE:
            code = detail.get("errorCode")
    code = code or error.get("status")
    if code == "INVALID_ARGUMENT" and _about_the_token(error, details):
        return INVALID_REGISTRATION
    return str(code) if code else None


def _send_once(*, url: str, payload: dict[str, Any], token: str, timeout: float) -> SendResult:
    response = provider_call(
        provider=PROVIDER,
        operation="send_push",
        method="POST",
        url=url,
        read_timeout=timeout,
        succeeded=lambda body: isinstance(body, dict) and isinstance(body.get("name"), str),
        error_code=error_code,
        json=payload,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    return SendResult(provider=PROVIDER, message_id=response.body["name"], raw=response.body)


def _stale_token(error: ProviderError) -> bool:
    return error.status == 401 and error.code != THIRD_PARTY_AUTH_ERROR


def collapse_id_for(notification_id: int | str) -> str:
    """The collapse identity of one of our notifications: the same for every send of it, different for
    every other one."""
    return f"notification-{notification_id}"


def _collapse_fields(collapse_id: str) -> dict[str, Any]:
    if not collapse_id or len(collapse_id.encode()) > MAX_COLLAPSE_ID_BYTES:
        raise ValueError(f"a collapse id is 1 to {MAX_COLLAPSE_ID_BYTES} bytes")
    return {
        "android": {"notification": {"tag": collapse_id}},
        "apns": {"headers": {"apns-collapse-id": collapse_id}},
    }


def send_push(
    *,
    device_token: str,
    title: str,
    body: str,
    data: Mapping[str, Any] | None = None,
    collapse_id: str | None = None,
    timeout: float,
) -> SendResult:
    """Sends one notification (`title`, `body`: already in the reader's language; `data`: values sent
    as strings) to `device_token`, waiting at most `timeout` seconds per call. `collapse_id` (at most 64
    bytes): a resend with the same one replaces the notification on the device. `message_id` is FCM's
    message name. Raises RecipientUnreachable (delete the device) or ProviderError."""
    if not settings.FCM_PROJECT_ID:
        raise ProviderError(PROVIDER, "FCM_PROJECT_ID is not set", retryable=False, code="not_configured")
    message: dict[str, Any] = {"token": device_token, "notification": {"title": title, "body": body}}
    if data:
        message["data"] = {str(key): str(value) for key, value in data.items()}
    if collapse_id is not None:
        message.update(_collapse_fields(collapse_id))
    url = f"{settings.FCM_BASE_URL.rstrip('/')}/v1/projects/{settings.FCM_PROJECT_ID}/messages:send"
    token = access_token(timeout=timeout)
    try:
        try:
            return _send_once(url=url, payload={"message": message}, token=token, timeout=timeout)
        except ProviderError as error:
            if not _stale_token(error):
                raise
        token = access_token(timeout=timeout, stale=token)
        try:
            return _send_once(url=url, payload={"message": message}, token=token, timeout=timeout)
        except ProviderError as error:
            if _stale_token(error):
                raise ProviderError(
                    PROVIDER, "refused a fresh token", retryable=False, status=401, code="UNAUTHENTICATED"
                ) from error
            raise
    except ProviderError as error:
        if error.code in DEVICE_GONE_CODES:
            raise RecipientUnreachable(
                PROVIDER,
                "device token unregistered",
                code=error.code,
                status=error.status,
                forget_address=True,
            ) from error
        raise


def configuration_problems(*, project_id: str, credentials_file: str) -> list[str]:
    """What is wrong with the FCM settings, for a check at start (empty when push is usable). Reads the
    file; never names its secrets."""
    problems = []
    if not project_id:
        problems.append("FCM_PROJECT_ID is not set")
    if not credentials_file:
        return [*problems, "FCM_CREDENTIALS_FILE is not set"]
    try:
        info = json.loads(Path(credentials_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [*problems, f"FCM_CREDENTIALS_FILE cannot be read as JSON ({type(error).__name__})"]
    if not isinstance(info, dict):
        return [*problems, "FCM_CREDENTIALS_FILE is not a JSON object"]
    missing = [name for name in SERVICE_ACCOUNT_FIELDS if not info.get(name)]
    if missing:
        problems.append(f"FCM_CREDENTIALS_FILE lacks {', '.join(missing)}")
    elif info["type"] != "service_account":
        problems.append("FCM_CREDENTIALS_FILE is not a service-account key (type)")
    return problems
