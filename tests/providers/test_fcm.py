"""The FCM HTTP v1 client against the fake FCM over real HTTP: OAuth2 from a service-account file (its
token_uri honoured, the token cached across threads until it expires, refreshed once on a 401) and how
every answer is classified."""

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.core.http import ProviderError
from backend.fakes.fcm import FakeFcm
from backend.providers import fcm
from backend.providers.base import RecipientUnreachable, SendResult

DEVICE = "device-token-1"


@pytest.fixture
def fake(settings, tmp_path) -> Iterator[FakeFcm]:
    fcm.forget_tokens()
    with FakeFcm(project_id="salon-push") as server:
        settings.FCM_PROJECT_ID = "salon-push"
        settings.FCM_CREDENTIALS_FILE = str(server.write_service_account(tmp_path / "sa.json"))
        settings.FCM_BASE_URL = server.url + "/"
        yield server
    fcm.forget_tokens()


def send(**options):
    arguments = {
        "device_token": DEVICE,
        "title": "Booking confirmed",
        "body": "See you at 10:00",
        "timeout": 5,
    }
    return fcm.send_push(**(arguments | options))


def raised_by(**options) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        send(**options)
    return raised.value


def test_a_push_is_sent_with_a_token_from_the_files_token_uri(fake, caplog):
    with caplog.at_level(logging.INFO, logger="backend.core.http"):
        result = send(data={"booking_id": 42, "kind": "booking_confirmed"})
    [message] = fake.messages()
    assert result == SendResult(provider="fcm", message_id=message["name"], raw={"name": message["name"]})
    assert message["name"].startswith("projects/salon-push/messages/")
    assert message["message"] == {
        "token": DEVICE,
        "notification": {"title": "Booking confirmed", "body": "See you at 10:00"},
        "data": {"booking_id": "42", "kind": "booking_confirmed"},
    }
    token_call, send_call = fake.journal()
    assert token_call["path"] == "/token" and token_call["body"]["grant_type"].endswith("jwt-bearer")
    assert send_call["headers"]["authorization"].startswith("Bearer ya29.fake-")
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("provider=fcm operation=oauth_token status=200 ")
    assert lines[1].startswith("provider=fcm operation=send_push status=200 ")
    assert not any("ya29" in line or "BEGIN PRIVATE" in line for line in lines)


def test_no_data_means_no_data_field_and_no_collapse_id_no_collapse_fields(fake):
    send()
    [message] = fake.messages()
    assert set(message["message"]) == {"token", "notification"}


def test_a_collapse_id_tags_the_android_notification_and_the_apns_collapse_header(fake):
    collapse_id = fcm.collapse_id_for(1234)
    send(collapse_id=collapse_id)
    send(collapse_id=collapse_id)  # a resend: the same identity, so it replaces the first on the device
    send(collapse_id=fcm.collapse_id_for(1235))
    messages = fake.messages()
    assert [m["android_tag"] for m in messages] == ["notification-1234"] * 2 + ["notification-1235"]
    assert [m["apns_collapse_id"] for m in messages] == [m["android_tag"] for m in messages]
    assert messages[0]["message"]["android"] == {"notification": {"tag": "notification-1234"}}
    assert messages[0]["message"]["apns"] == {"headers": {"apns-collapse-id": "notification-1234"}}
    assert all(m["android_collapse_key"] is None for m in messages)  # FCM keeps only 4 per device


def test_collapse_ids_are_short_enough_for_apns_and_a_longer_one_is_refused_before_sending(fake):
    assert len(fcm.collapse_id_for(2**63 - 1).encode()) <= fcm.MAX_COLLAPSE_ID_BYTES
    send(collapse_id="x" * 64)
    for wrong in ("x" * 65, "é" * 33, ""):
        with pytest.raises(ValueError, match="64 bytes"):
            send(collapse_id=wrong)
    assert len(fake.messages()) == 1


def test_the_token_is_fetched_once_and_shared_by_threads(fake):
    results = []
    threads = [threading.Thread(target=lambda: results.append(send())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(fake.messages()) == 8
    assert fake.token_grants == 1


def test_a_token_near_its_expiry_is_replaced(fake):
    # google-auth treats a token as expired 3 min 45 s before its expiry: a 200 s token is never reused.
    fake.configure(token_lifetime_seconds=200)
    send()
    send()
    assert fake.token_grants == 2
    fake.configure(token_lifetime_seconds=3600)
    send()
    send()
    assert fake.token_grants == 3


def test_a_401_refreshes_the_token_once_and_retries(fake):
    send()
    fake.revoke_tokens()
    send()
    assert fake.token_grants == 2 and len(fake.messages()) == 2
    paths = [call["path"].rsplit("/", 1)[-1] for call in fake.journal()]
    assert paths == ["token", "messages:send", "messages:send", "token", "messages:send"]
    assert [call["status"] for call in fake.journal()][2:] == [401, 200, 200]


def test_a_401_with_a_fresh_token_is_permanent(fake, monkeypatch):
    monkeypatch.setattr(fake, "_authenticated", lambda request: False)
    error = raised_by()
    assert (error.retryable, error.status, error.code) == (False, 401, "UNAUTHENTICATED")
    assert fake.token_grants == 2 and fake.messages() == []


@pytest.mark.parametrize(
    ("error_code", "status", "code"),
    [("UNREGISTERED", 404, "UNREGISTERED"), ("INVALID_ARGUMENT", 400, "INVALID_REGISTRATION")],
)
def test_a_dead_device_token_is_recipient_unreachable(fake, error_code, status, code):
    fake.configure(token_errors={DEVICE: error_code})
    error = raised_by()
    assert isinstance(error, RecipientUnreachable)
    assert (error.retryable, error.forget_address, error.status, error.code) == (False, True, status, code)
    assert fake.messages() == []


@pytest.mark.parametrize(
    ("error_code", "status"), [("SENDER_ID_MISMATCH", 403), ("THIRD_PARTY_AUTH_ERROR", 401)]
)
def test_permanent_failures(fake, error_code, status):
    fake.configure(token_errors={DEVICE: error_code})
    error = raised_by()
    assert not isinstance(error, RecipientUnreachable)
    assert (error.retryable, error.status, error.code) == (False, status, error_code)
    assert fake.token_grants == 1  # THIRD_PARTY_AUTH_ERROR is not a stale token: no refresh


def test_an_invalid_argument_not_about_the_token_is_permanent_and_keeps_the_device(fake):
    error = raised_by(device_token="")  # no target at all: our bug, not the device's
    assert not isinstance(error, RecipientUnreachable)
    assert (error.retryable, error.status, error.code) == (False, 400, "INVALID_ARGUMENT")


def test_quota_exceeded_is_retryable_after_retry_after(fake):
    fake.configure(quota_exceeded_next=1, retry_after_seconds=42)
    error = raised_by()
    assert (error.retryable, error.status, error.code, error.retry_after) == (
        True,
        429,
        "QUOTA_EXCEEDED",
        42.0,
    )
    assert send().message_id


def test_an_outage_is_retryable(fake):
    fake.configure(unavailable=True, retry_after_seconds=None)
    error = raised_by()
    assert (error.retryable, error.status, error.code, error.retry_after) == (True, 503, "UNAVAILABLE", None)


def test_an_internal_error_is_retryable(fake):
    send()
    fake.fail_next(1, status=500)
    error = raised_by()
    assert (error.retryable, error.status, error.code) == (True, 500, "INTERNAL")


def test_a_timeout_is_retryable(fake, settings):
    send()
    fake.configure(hang_seconds=2)
    fake.timeout_next(1)
    error = raised_by(timeout=0.3)
    assert (error.retryable, error.code) == (True, "timeout")


def test_an_unreachable_token_endpoint_is_retryable(fake, caplog):
    fake.down = True
    with caplog.at_level(logging.WARNING, logger="backend.core.http"):
        error = raised_by()
    assert (error.retryable, error.code) == (True, "oauth_unreachable")
    assert "operation=oauth_token status=- " in caplog.records[0].getMessage()


def test_a_refused_token_grant_is_classified_by_google_auth(fake, tmp_path, settings):
    other = FakeFcm(project_id="salon-push")  # another key, never started: the signature does not verify
    other_file = tmp_path / "other.json"
    account = json.loads(fake.write_service_account(tmp_path / "copy.json").read_text())
    account["private_key"] = other.private_key_pem
    other_file.write_text(json.dumps(account))
    settings.FCM_CREDENTIALS_FILE = str(other_file)
    error = raised_by()
    assert (error.retryable, error.code) == (False, "oauth_refused")


def test_a_token_endpoint_failing_with_5xx_is_retryable(fake, monkeypatch):
    monkeypatch.setattr(
        "google.auth._exponential_backoff._DEFAULT_INITIAL_INTERVAL_SECONDS", 0.0, raising=False
    )
    fake.fail_next(3, status=503)  # google-auth tries the token endpoint three times
    error = raised_by()
    assert (error.retryable, error.code) == (True, "oauth_refused")


def test_missing_or_broken_configuration_is_permanent(fake, settings, tmp_path):
    settings.FCM_PROJECT_ID = ""
    assert raised_by().code == "not_configured"
    settings.FCM_PROJECT_ID = "salon-push"
    settings.FCM_CREDENTIALS_FILE = ""
    assert raised_by().code == "not_configured"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    settings.FCM_CREDENTIALS_FILE = str(broken)
    error = raised_by()
    assert (error.retryable, error.code) == (False, "credentials_invalid")
    assert str(tmp_path) not in str(error)


def test_error_code_tolerates_other_shapes():
    assert fcm.error_code(None) is None
    assert fcm.error_code({"error": "nope"}) is None
    assert fcm.error_code({"error": {"status": "INTERNAL", "details": "x"}}) == "INTERNAL"
    assert fcm.error_code(
        {"error": {"status": "INVALID_ARGUMENT", "details": ["x", {"@type": "other"}]}}
    ) == ("INVALID_ARGUMENT")
    bad_request = {"@type": fcm.BAD_REQUEST_TYPE, "fieldViolations": ["x", {"field": "message.data"}]}
    assert (
        fcm.error_code({"error": {"status": "INVALID_ARGUMENT", "details": [bad_request]}})
        == "INVALID_ARGUMENT"
    )
    assert fcm.error_code(
        {"error": {"status": "INVALID_ARGUMENT", "details": [{"@type": fcm.BAD_REQUEST_TYPE}]}}
    ) == ("INVALID_ARGUMENT")
    legacy = {"error": {"status": "INVALID_ARGUMENT", "message": "Invalid registration"}}
    assert fcm.error_code(legacy) == "INVALID_REGISTRATION"


def test_configuration_problems(fake, tmp_path, settings):
    good = settings.FCM_CREDENTIALS_FILE
    assert fcm.configuration_problems(project_id="p", credentials_file=good) == []
    assert fcm.configuration_problems(project_id="", credentials_file="") == [
        "FCM_PROJECT_ID is not set",
        "FCM_CREDENTIALS_FILE is not set",
    ]
    assert (
        "cannot be read"
        in fcm.configuration_problems(project_id="p", credentials_file=str(tmp_path / "no"))[0]
    )
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    assert fcm.configuration_problems(project_id="p", credentials_file=str(listed)) == [
        "FCM_CREDENTIALS_FILE is not a JSON object"
    ]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"type": "service_account", "project_id": "p"}))
    assert fcm.configuration_problems(project_id="p", credentials_file=str(partial)) == [
        "FCM_CREDENTIALS_FILE lacks private_key, client_email, token_uri"
    ]
    user = tmp_path / "user.json"
    user.write_text(json.dumps(json.loads(Path(good).read_text()) | {"type": "authorized_user"}))
    assert fcm.configuration_problems(project_id="p", credentials_file=str(user)) == [
        "FCM_CREDENTIALS_FILE is not a service-account key (type)"
    ]


def test_a_failure_after_the_refresh_is_classified_like_any_other(fake):
    send()
    fake.revoke_tokens()
    fake.unregister(DEVICE)
    error = raised_by()
    assert isinstance(error, RecipientUnreachable) and error.code == "UNREGISTERED"
    assert fake.token_grants == 2


def test_the_token_transport_answers_googles_response_interface(fake):
    response = fcm._TokenRequest(2)(fake.token_uri, method="POST", body=b"grant_type=x")
    assert response.status == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.data)["error"] == "unsupported_grant_type"
