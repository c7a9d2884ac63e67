"""Fake Firebase Cloud Messaging HTTP v1, with its OAuth2 token endpoint.

- ``POST /token``: the JWT-bearer grant (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``,
  ``assertion=<RS256 JWT>``). The assertion's signature is checked against the public half of the fake's
  service-account key (``kid`` = its ``private_key_id`` when present), ``iss`` = its ``client_email``,
  ``aud`` = Google's token URI (what google-auth always writes) or this endpoint, ``exp``/``iat`` sane,
  ``scope`` naming firebase.messaging or cloud-platform. Answers ``{"access_token", "expires_in",
  "token_type": "Bearer"}``; refusals are OAuth's ``{"error": "invalid_grant", "error_description"}``.
- ``POST /v1/projects/{project_id}/messages:send``: a known, unexpired bearer token (else 401
  UNAUTHENTICATED), the configured project (else 403 PERMISSION_DENIED), exactly one of
  token/topic/condition and string ``data`` values (else 400 INVALID_ARGUMENT); answers
  ``{"name": "projects/{id}/messages/{n}"}`` and records the message, with its collapse identity
  (``android_tag``: ``android.notification.tag``; ``apns_collapse_id``: the ``apns-collapse-id`` of
  ``apns.headers``, at most 64 bytes, else 400 INVALID_ARGUMENT as APNs refuses it; ``android_collapse_key``),
  each None when absent: a message whose tag or collapse id is already shown replaces it on the device.

Switches (``configure`` or ``POST /_control/config``): ``token_errors`` {device token: UNREGISTERED |
INVALID_ARGUMENT | SENDER_ID_MISMATCH | THIRD_PARTY_AUTH_ERROR}; ``quota_exceeded_next`` n (429
QUOTA_EXCEEDED); ``unavailable`` (503 UNAVAILABLE until turned off: an outage); ``retry_after_seconds``
(the Retry-After of those two answers, null for none); ``token_lifetime_seconds``; slowness is the shared
``latency_ms``. ``revoke_tokens()`` makes every issued access token stale (the next send gets a 401).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .base import ControlError, FakeProvider, Request, Response

DEFAULT_PROJECT_ID = "fake-salon-project"
DEFAULT_CLIENT_EMAIL = "push@fake-salon-project.iam.gserviceaccount.com"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCEPTED_SCOPES = (
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
)
TOKEN_ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
MAX_CLOCK_SKEW_SECONDS = 300
MAX_APNS_COLLAPSE_ID_BYTES = 64
MAX_ASSERTION_LIFETIME_SECONDS = 3600


def _token_errors(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or any(
        not isinstance(key, str) or code not in TOKEN_ERRORS for key, code in value.items()
    ):
        raise ControlError(f"must map device tokens to one of {', '.join(TOKEN_ERRORS)}")
    return dict(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ControlError("must be a non-negative integer")
    return value


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ControlError("must be a positive integer")
    return value


def _optional_count(value: Any) -> int | None:
    return None if value is None else _count(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ControlError("must be true or false")
    return value


def new_private_key_pem() -> str:
    """A fresh 2048-bit RSA key in PKCS#8 PEM, as Google writes ``private_key``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class FakeFcm(FakeProvider):
    name = "fcm"
    prefix = ""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        project_id: str = DEFAULT_PROJECT_ID,
        client_email: str = DEFAULT_CLIENT_EMAIL,
        private_key_pem: str | None = None,
        token_lifetime_seconds: int = 3600,
        **options: Any,
    ) -> None:
        super().__init__(host, port, **options)
        self.project_id = project_id
        self.client_email = client_email
        self.private_key_pem = private_key_pem or new_private_key_pem()
        self.private_key_id = secrets.token_hex(20)
        private_key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        self._public_key = private_key.public_key()
        self._access_tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self._messages: list[dict[str, Any]] = []
        self._message_ids = itertools.count(1_000_001)
        self._token_grants = 0
        self.add_setting("token_lifetime_seconds", _positive, token_lifetime_seconds)
        self.add_setting("token_errors", _token_errors, {})
        self.add_setting("quota_exceeded_next", _count, 0)
        self.add_setting("unavailable", _flag, False)
        self.add_setting("retry_after_seconds", _optional_count, 30)
        self.add_route("POST", "/token", self._token)
        self.add_route("POST", "/v1/projects/(?P<project>[^/]+)/messages:send", self._send)
        self.add_control_route("GET", "/messages", lambda request: Response(200, self.messages()))
        self.add_control_route("POST", "/revoke-tokens", self._control_revoke)
        self.add_control_route(
            "GET", "/service-account", lambda request: Response(200, self.service_account())
        )

    # -- provider hooks ----------------------------------------------------------------------------

    def error_body(self, status: int, message: str, error_code: str | None = None) -> Any:
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
        if error_code:
            error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": error_code}]
        return {"error": error}

    def _reset_state(self) -> None:
        self._access_tokens.clear()
        self._messages.clear()
        self._token_grants = 0

    # -- Python API for tests and development ------------------------------------------------------

    @property
    def token_uri(self) -> str:
        return self.root_url + "/token"

    def service_account(self) -> dict[str, str]:
        """A service-account key file's content whose ``token_uri`` is this fake (started)."""
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
        }

    def write_service_account(self, path: str | os.PathLike[str]) -> Path:
        """Writes ``service_account()`` to ``path`` (mode 0600), for FCM_CREDENTIALS_FILE."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(self.service_account(), file, indent=2)
        return target

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self._messages))

    @property
    def token_grants(self) -> int:
        """Access tokens issued since the start or the last reset."""
        with self._lock:
            return self._token_grants

    def unregister(self, *device_tokens: str) -> None:
        """These device tokens answer 404 UNREGISTERED from now on."""
        with self._lock:
            errors = dict(self._settings["token_errors"])
            errors.update(dict.fromkeys(device_tokens, "UNREGISTERED"))
            self._settings["token_errors"] = errors

    def revoke_tokens(self) -> None:
        """Every access token issued so far is refused from now on (as if revoked or expired early)."""
        with self._lock:
            self._access_tokens.clear()

    def _control_revoke(self, request: Request) -> Response:
        self.revoke_tokens()
        return Response(200, {"revoked": True})

    # -- the OAuth2 token endpoint ---------------------------------------------------------------

    def _grant_error(self, description: str, error: str = "invalid_grant") -> Response:
        return Response(400, {"error": error, "error_description": description})

    def _token(self, request: Request) -> Response:
        form = request.body if isinstance(request.body, dict) else {}
        if form.get("grant_type") != JWT_BEARER:
            return self._grant_error("Invalid grant_type", "unsupported_grant_type")
        assertion = form.get("assertion")
        if not isinstance(assertion, str) or not assertion:
            return self._grant_error("Missing assertion")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self._public_key,
                algorithms=["RS256"],
                audience=[GOOGLE_TOKEN_URI, self.token_uri],
                issuer=self.client_email,
                leeway=MAX_CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.InvalidSignatureError:
            return self._grant_error("Invalid JWT Signature.")
        except jwt.PyJWTError as error:
            return self._grant_error(f"Invalid JWT: {type(error).__name__}")
        if header.get("kid") not in (None, self.private_key_id):
            return self._grant_error("Invalid JWT Signature.")
        if claims["exp"] - claims["iat"] > MAX_ASSERTION_LIFETIME_SECONDS:
            return self._grant_error("Invalid JWT: Expiration too far in the future")
        scopes = str(claims.get("scope", "")).split()
        if not any(scope in ACCEPTED_SCOPES for scope in scopes):
            return self._grant_error("Invalid OAuth scope or ID token audience provided.", "invalid_scope")
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            lifetime = self._settings["token_lifetime_seconds"]
            self._access_tokens[token] = time.time() + lifetime
            self._token_grants += 1
        return Response(200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})

    # -- messages:send -------------------------------------------------------------------------------

    def _authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self._access_tokens.get(token)
        return scheme.lower() == "bearer" and expiry is not None and expiry > time.time()

    def _invalid(self, message: str, field: str) -> Response:
        body = self.error_body(400, message)
        body["error"]["details"] = [
            {"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": field, "description": message}]}
        ]
        return Response(400, body)

    def _send(self, request: Request) -> Response:
        if not self._authenticated(request):
            message = "Request had invalid authentication credentials. Expected OAuth 2 access token."
            return Response(401, self.error_body(401, message))
        if request.params["project"] != self.project_id:
            return Response(403, self.error_body(403, "Permission 'cloudmessaging.messages.create' denied"))
        body = request.body if isinstance(request.body, dict) else {}
        message = body.get("message")
        if not isinstance(message, dict):
            return self._invalid("Request contains an invalid argument.", "message")
        targets = [key for key in ("token", "topic", "condition") if message.get(key)]
        if len(targets) != 1:
            return self._invalid("Exactly one of token, topic or condition must be set", "message")
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(value, str) for value in data.values()):
            return self._invalid("Invalid value at 'message.data': values must be strings", "message.data")
        notification = message.get("notification", {})
        if not isinstance(notification, dict) or not all(isinstance(v, str) for v in notification.values()):
            return self._invalid("Invalid value at 'message.notification'", "message.notification")

        collapse, problem = _collapse_identity(message)
        if problem:
            return self._invalid(*problem)

        with self._lock:
            settings = self._settings
            retry_after = settings["retry_after_seconds"]
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            if settings["quota_exceeded_next"] > 0:
                settings["quota_exceeded_next"] -= 1
                body = self.error_body(429, "Quota exceeded for sending messages", "QUOTA_EXCEEDED")
                return Response(429, body, headers=headers)
            if settings["unavailable"]:
                return Response(
                    503,
                    self.error_body(503, "The service is currently unavailable.", "UNAVAILABLE"),
                    headers=headers,
                )
            error_code = settings["token_errors"].get(message.get("token"))
        if error_code is not None:
            status, status_name, text = TOKEN_ERRORS[error_code]
            if error_code == "INVALID_ARGUMENT":
                return self._invalid(text, "message.token")
            answer = self.error_body(status, text, error_code)
            answer["error"]["status"] = status_name
            return Response(status, answer)

        name = f"projects/{self.project_id}/messages/{next(self._message_ids)}"
        if body.get("validate_only") is not True:
            with self._lock:
                self._messages.append({"name": name, "message": message, **collapse})
        return Response(200, {"name": name})


def _collapse_identity(message: dict[str, Any]) -> tuple[dict[str, str | None], tuple[str, str] | None]:
    """The message's android tag, APNs collapse id and android collapse key, or what is wrong with them."""
    android = message.get("android", {})
    apns = message.get("apns", {})
    notification = android.get("notification", {}) if isinstance(android, dict) else None
    headers = apns.get("headers", {}) if isinstance(apns, dict) else None
    if not isinstance(notification, dict) or not isinstance(headers, dict):
        return {}, ("Invalid value at 'message.android' or 'message.apns'", "message")
    found = {
        "android_tag": notification.get("tag"),
        "apns_collapse_id": headers.get("apns-collapse-id"),
        "android_collapse_key": android.get("collapse_key"),
    }
    if not all(value is None or isinstance(value, str) for value in [*found.values(), *headers.values()]):
        return {}, ("Invalid value: tags, collapse ids and headers are strings", "message")
    apns_id = found["apns_collapse_id"]
    if apns_id is not None and len(apns_id.encode()) > MAX_APNS_COLLAPSE_ID_BYTES:
        return {}, ("apns-collapse-id exceeds 64 bytes", "message.apns.headers")
    return found, None
