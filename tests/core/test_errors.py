"""Every error status answers the contract's body, in the caller's language, never HTML or a traceback."""

import re

import pytest
from rest_framework.test import APIClient

ARABIC = re.compile(r"[\u0600-\u06FF]")


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


pytestmark = [pytest.mark.urls("tests.core.error_views"), pytest.mark.django_db]


def test_validation_error_names_each_field(api_client):
    error = assert_error_shape(api_client.post("/t/validate/", {"start": "soon"}), 400, "validation_error")
    assert set(error["fields"]) == {"start", "count"}
    assert all(isinstance(message, str) for messages in error["fields"].values() for message in messages)


def test_malformed_json_is_400(api_client):
    response = api_client.generic("POST", "/t/validate/", "{not json", content_type="application/json")
    assert_error_shape(response, 400, "parse_error")


def test_unauthenticated_is_401_with_a_bearer_challenge(api_client):
    response = api_client.get("/t/private/")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_tokens_are_401_token_invalid(api_client):
    response = api_client.get("/t/private/", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert_error_shape(response, 401, "token_invalid")
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": "not-a-token"})
    assert_error_shape(response, 401, "token_invalid")


def test_forbidden_is_403(api_client):
    assert_error_shape(api_client.get("/t/forbidden/"), 403, "permission_denied")


def test_unknown_url_is_json_404_inside_and_outside_the_api(api_client):
    assert_error_shape(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error_shape(api_client.get("/no-such-page/"), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_api_url_is_404_for_every_method_not_a_csrf_refusal(method):
    """Found by tests/test_api_fuzz.py: a POST to /api/v1/bookings/abc/cancel/ answered 403 csrf_failed."""
    client = APIClient(enforce_csrf_checks=True)  # as a real client: Django's test client skips CSRF
    assert_error_shape(getattr(client, method)("/api/v1/bookings/abc/cancel/"), 404, "not_found")


def test_wrong_method_is_405(api_client):
    assert_error_shape(api_client.delete("/health/"), 405, "method_not_allowed")


def test_unsupported_media_type_is_415(api_client):
    response = api_client.generic("POST", "/t/validate/", "start=x", content_type="text/plain")
    assert_error_shape(response, 415, "unsupported_media_type")


def test_application_error_keeps_status_code_and_extra(api_client):
    error = assert_error_shape(api_client.get("/t/conflict/"), 409, "slot_unavailable")
    assert error["hint"] == 1


def test_throttled_is_429_with_retry_after(api_client):
    assert api_client.get("/t/throttled/").status_code == 200
    response = api_client.get("/t/throttled/")
    error = assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) == error["retry_after"] >= 1


def test_crash_is_a_generic_500_without_details(api_client, caplog):
    response = api_client.get("/t/crash/")
    error = assert_error_shape(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "hunter2" in caplog.text  # logged for ops, not shown to the client
    assert error == {"code": "server_error", "message": error["message"]}


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("post", "/t/validate/", 400, "validation_error"),
        ("get", "/t/private/", 401, "not_authenticated"),
        ("get", "/t/forbidden/", 403, "permission_denied"),
        ("get", "/no-such-page/", 404, "not_found"),
        ("get", "/api/v1/no-such-thing/", 404, "not_found"),
        ("delete", "/health/", 405, "method_not_allowed"),
        ("get", "/t/crash/", 500, "server_error"),
    ],
)
def test_messages_follow_accept_language(api_client, method, path, status, code):
    english = assert_error_shape(getattr(api_client, method)(path, HTTP_ACCEPT_LANGUAGE="en"), status, code)
    arabic = assert_error_shape(getattr(api_client, method)(path, HTTP_ACCEPT_LANGUAGE="ar"), status, code)
    assert not ARABIC.search(english["message"])
    assert ARABIC.search(arabic["message"]), arabic["message"]
    if "fields" in arabic:
        assert ARABIC.search(str(arabic["fields"]))


def test_arabic_throttle_and_auth_messages(api_client):
    api_client.get("/t/throttled/")
    error = assert_error_shape(api_client.get("/t/throttled/", HTTP_ACCEPT_LANGUAGE="ar"), 429, "throttled")
    assert ARABIC.search(error["message"])
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": "x"}, HTTP_ACCEPT_LANGUAGE="ar")
    assert ARABIC.search(assert_error_shape(response, 401, "token_invalid")["message"])


def test_an_unreachable_store_is_503_to_retry_not_a_crash(api_client):
    response = api_client.get("/t/redis-down/")
    error = assert_error_shape(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5" and "10.0.0.9" not in error["message"]


def test_a_nested_library_detail_keeps_its_message(api_client):
    error = assert_error_shape(api_client.get("/t/nested/", HTTP_ACCEPT_LANGUAGE="en"), 401, "token_invalid")
    assert error["message"] == "Given token not valid for any token type"
