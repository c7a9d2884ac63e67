"""Fake FCM through real HTTP: the JWT-bearer token endpoint (signature, issuer, audience, scope,
lifetime), messages:send and its switches, the control API."""

import time
from collections.abc import Iterator

import jwt
import pytest
import requests

from backend.fakes import ControlError, FakeFcm
from backend.fakes.fcm import GOOGLE_TOKEN_URI, JWT_BEARER, new_private_key_pem
from tests.support.waiting import wait_until

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@pytest.fixture(scope="module")
def key_pem() -> str:
    return new_private_key_pem()


@pytest.fixture
def fake(key_pem) -> Iterator[FakeFcm]:
    with FakeFcm(project_id="p1", private_key_pem=key_pem) as server:
        yield server


def assertion(fake: FakeFcm, key: str | None = None, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": fake.client_email,
        "aud": GOOGLE_TOKEN_URI,
        "iat": now,
        "exp": now + 3600,
        "scope": SCOPE,
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(
        payload, key or fake.private_key_pem, algorithm="RS256", headers={"kid": fake.private_key_id}
    )


def grant(fake: FakeFcm, token: str | None = None, grant_type: str = JWT_BEARER) -> requests.Response:
    form = {"grant_type": grant_type}
    if token is not None:
        form["assertion"] = token
    return requests.post(fake.token_uri, data=form, timeout=5)


def access(fake: FakeFcm) -> str:
    return grant(fake, assertion(fake)).json()["access_token"]


def push(fake: FakeFcm, token: str | None, message=None, project: str = "p1", **extra) -> requests.Response:
    body = {
        "message": message if message is not None else {"token": "device", "notification": {"title": "t"}}
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{fake.url}/v1/projects/{project}/messages:send", json=body | extra, headers=headers, timeout=5
    )


def test_a_good_assertion_gets_an_access_token(fake):
    answer = grant(fake, assertion(fake))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert body["access_token"].startswith("ya29.fake-") and fake.token_grants == 1
    assert grant(
        fake, assertion(fake, aud=fake.token_uri, scope="https://www.googleapis.com/auth/cloud-platform")
    ).ok


@pytest.mark.parametrize(
    ("claims", "error", "description"),
    [
        ({"iss": "someone@else"}, "invalid_grant", "Invalid JWT: InvalidIssuerError"),
        ({"aud": "https://elsewhere/token"}, "invalid_grant", "Invalid JWT: InvalidAudienceError"),
        ({"exp": 1000, "iat": 0}, "invalid_grant", "Invalid JWT: ExpiredSignatureError"),
        ({"exp": None}, "invalid_grant", "Invalid JWT: MissingRequiredClaimError"),
        ({"exp": int(time.time()) + 7200}, "invalid_grant", "Invalid JWT: Expiration too far in the future"),
        ({"scope": "https://www.googleapis.com/auth/drive"}, "invalid_scope", None),
    ],
)
def test_bad_assertions_are_refused(fake, claims, error, description):
    answer = grant(fake, assertion(fake, **claims))
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    if description:
        assert answer.json()["error_description"] == description
    assert fake.token_grants == 0


def test_a_signature_by_another_key_or_kid_is_refused(fake):
    other = new_private_key_pem()
    assert grant(fake, assertion(fake, key=other)).json()["error_description"] == "Invalid JWT Signature."
    now = int(time.time())
    good_claims = {
        "iss": fake.client_email,
        "aud": GOOGLE_TOKEN_URI,
        "iat": now,
        "exp": now + 60,
        "scope": SCOPE,
    }
    foreign_kid = jwt.encode(good_claims, fake.private_key_pem, algorithm="RS256", headers={"kid": "other"})
    assert grant(fake, foreign_kid).json()["error_description"] == "Invalid JWT Signature."
    assert grant(fake, "not.a.jwt").json()["error_description"].startswith("Invalid JWT: ")


def test_a_wrong_grant_type_or_no_assertion_is_refused(fake):
    assert (
        grant(fake, assertion(fake), grant_type="client_credentials").json()["error"]
        == "unsupported_grant_type"
    )
    assert grant(fake).json() == {"error": "invalid_grant", "error_description": "Missing assertion"}


def test_send_needs_a_live_access_token_and_the_project(fake):
    assert push(fake, None).status_code == 401
    assert push(fake, "ya29.unknown").json()["error"]["status"] == "UNAUTHENTICATED"
    token = access(fake)
    assert push(fake, token, project="other").status_code == 403
    assert push(fake, token).status_code == 200
    fake.revoke_tokens()
    assert push(fake, token).status_code == 401
    fake.configure(token_lifetime_seconds=1)
    short = access(fake)
    wait_until(lambda: push(fake, short).status_code == 401, timeout=10)  # once its second has passed


def test_send_records_messages_and_validate_only_does_not(fake):
    token = access(fake)
    first = push(fake, token).json()["name"]
    assert push(fake, token, validate_only=True).status_code == 200
    assert fake.messages() == [
        {
            "name": first,
            "message": {"token": "device", "notification": {"title": "t"}},
            "android_tag": None,
            "apns_collapse_id": None,
            "android_collapse_key": None,
        }
    ]
    assert requests.get(f"{fake.root_url}/_control/messages", timeout=5).json() == fake.messages()


def test_send_records_the_collapse_identity_of_each_platform(fake):
    message = {
        "token": "device",
        "android": {"collapse_key": "k", "notification": {"tag": "notification-7"}},
        "apns": {"headers": {"apns-collapse-id": "n" * 64, "apns-priority": "10"}},
    }
    assert push(fake, access(fake), message=message).status_code == 200
    [recorded] = fake.messages()
    assert recorded["message"] == message
    assert (recorded["android_tag"], recorded["apns_collapse_id"], recorded["android_collapse_key"]) == (
        "notification-7",
        "n" * 64,
        "k",
    )


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("x", "message"),
        ({"notification": {"title": "t"}}, "message"),
        ({"token": "d", "topic": "news"}, "message"),
        ({"token": "d", "data": {"n": 1}}, "message.data"),
        ({"token": "d", "notification": {"title": 5}}, "message.notification"),
        ({"token": "d", "apns": {"headers": {"apns-collapse-id": "é" * 33}}}, "message.apns.headers"),
        ({"token": "d", "apns": {"headers": {"apns-priority": 10}}}, "message"),
        ({"token": "d", "android": {"notification": {"tag": 7}}}, "message"),
        ({"token": "d", "android": "x"}, "message"),
        ({"token": "d", "apns": {"headers": []}}, "message"),
    ],
)
def test_invalid_messages_are_invalid_argument(fake, message, field):
    answer = push(fake, access(fake), message=message)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["fieldViolations"][0]["field"] == field


@pytest.mark.parametrize(
    ("code", "status", "status_name"),
    [
        ("UNREGISTERED", 404, "NOT_FOUND"),
        ("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED"),
        ("THIRD_PARTY_AUTH_ERROR", 401, "UNAUTHENTICATED"),
    ],
)
def test_token_errors(fake, code, status, status_name):
    fake.configure(token_errors={"device": code})
    answer = push(fake, access(fake))
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["status"] == status_name
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
    ]


def test_an_invalid_token_names_the_token_field(fake):
    fake.configure(token_errors={"device": "INVALID_ARGUMENT"})
    error = push(fake, access(fake)).json()["error"]
    assert error["details"][0]["fieldViolations"][0]["field"] == "message.token"


def test_unregister_adds_to_the_token_errors(fake):
    fake.unregister("a", "b")
    assert fake.config()["token_errors"] == {"a": "UNREGISTERED", "b": "UNREGISTERED"}


def test_quota_and_outage_switches(fake):
    token = access(fake)
    fake.configure(quota_exceeded_next=1, retry_after_seconds=12)
    quota = push(fake, token)
    assert (quota.status_code, quota.headers["Retry-After"]) == (429, "12")
    assert quota.json()["error"]["details"][0]["errorCode"] == "QUOTA_EXCEEDED"
    assert push(fake, token).status_code == 200
    fake.configure(unavailable=True, retry_after_seconds=None)
    outage = push(fake, token)
    assert outage.status_code == 503 and "Retry-After" not in outage.headers
    fake.configure(unavailable=False)
    assert push(fake, token).status_code == 200


def test_control_routes_and_settings(fake):
    token = access(fake)
    assert requests.post(f"{fake.root_url}/_control/revoke-tokens", timeout=5).json() == {"revoked": True}
    assert push(fake, token).status_code == 401
    account = requests.get(f"{fake.root_url}/_control/service-account", timeout=5).json()
    assert account == fake.service_account() and account["token_uri"] == fake.token_uri
    for setting, value in [
        ("token_errors", {"d": "NOPE"}),
        ("token_errors", ["d"]),
        ("quota_exceeded_next", -1),
        ("unavailable", "yes"),
        ("retry_after_seconds", True),
        ("token_lifetime_seconds", 0),
    ]:
        with pytest.raises(ControlError):
            fake.configure(**{setting: value})
    refused = requests.post(
        f"{fake.root_url}/_control/config", json={"token_lifetime_seconds": "1"}, timeout=5
    )
    assert refused.status_code == 400


def test_reset_forgets_tokens_and_messages(fake):
    token = access(fake)
    push(fake, token)
    fake.reset()
    assert (fake.messages(), fake.token_grants) == ([], 0)
    assert push(fake, token).status_code == 401


def test_injected_failures_use_googles_error_shape(fake):
    fake.fail_next(1, status=500)
    assert grant(fake, assertion(fake)).json() == {
        "error": {"code": 500, "message": "Internal Server Error", "status": "INTERNAL"}
    }
    fake.fail_next(1, status=418)
    assert grant(fake, assertion(fake)).json()["error"]["status"] == "UNKNOWN"


def test_a_fake_makes_its_own_key_when_given_none():
    assert FakeFcm().private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
