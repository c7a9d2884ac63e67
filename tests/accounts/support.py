"""Helpers for account tests: the API as the mobile app calls it."""

import re

from rest_framework.test import APIClient

from backend.core.phone import phone_normalize
from backend.fakes import FakeAuthentica

ARABIC = re.compile(r"[\u0600-\u06FF]")
PHONE = "+966501234567"
OTHER_PHONE = "+966551234567"


def error_of(response, status: int, code: str) -> dict:
    """The contract's error body, checked: status, JSON, {"error": {"code", "message", ...}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def request_code(client: APIClient, phone: str = PHONE, channel: str = "sms", **extra):
    return client.post("/api/v1/auth/otp/request/", {"phone": phone, "channel": channel}, **extra)


def verify(client: APIClient, phone: str, code: object, **extra):
    return client.post("/api/v1/auth/otp/verify/", {"phone": phone, "code": code}, **extra)


def login(client: APIClient, authentica: FakeAuthentica, phone: str = PHONE) -> dict:
    """Requests a code, reads it from the fake Authentica, verifies it: the login answer."""
    assert request_code(client, phone).status_code == 202
    response = verify(client, phone, authentica.last_otp(phone_normalize(phone)))
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {access}"}


def social(client: APIClient, provider: str, id_token: str, **fields):
    """POST /auth/social/; keyword arguments named HTTP_* are request headers, the others body fields."""
    extra = {name: value for name, value in fields.items() if name.startswith("HTTP_")}
    body = {name: value for name, value in fields.items() if name not in extra}
    return client.post(
        "/api/v1/auth/social/", {"provider": provider, "id_token": id_token, **body}, format="json", **extra
    )


def key_fetches(jwks, provider: str = "apple") -> int:
    """How many times the API fetched `provider`'s keys from the fake."""
    path = {"apple": "/apple/auth/keys", "google": "/google/oauth2/v3/certs"}[provider]
    return sum(1 for entry in jwks.journal() if entry["path"] == path)
