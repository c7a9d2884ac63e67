"""Whatever a client sends to the login endpoints, it gets a contract error with a stable code, in its
language; never a 500, and nothing is stored or sent."""

import json

import pytest

from backend.accounts.models import OtpChallenge, User
from tests.accounts.support import ARABIC, PHONE, error_of, request_code, verify

pytestmark = pytest.mark.django_db

REQUEST = "/api/v1/auth/otp/request/"
VERIFY = "/api/v1/auth/otp/verify/"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"phone": "0112345678"}, 400, "invalid_phone", None),  # Riyadh landline
        ({"phone": "920012345"}, 400, "invalid_phone", None),  # unified 9200 number
        ({"phone": "0521234567"}, 400, "invalid_phone", None),  # 52x is not a mobile range
        ({"phone": "12345"}, 400, "invalid_phone", None),
        ({"phone": "not a phone"}, 400, "invalid_phone", None),
        ({"phone": "+"}, 400, "invalid_phone", None),
        ({"phone": "   "}, 400, "validation_error", "phone"),
        ({"phone": "0501234567" * 50_000}, 400, "invalid_phone", None),  # half a megabyte
        ({"phone": "+201001234567"}, 400, "phone_region_not_allowed", None),  # an Egyptian mobile
        ({"phone": "+971501234567"}, 400, "phone_region_not_allowed", None),
        ({"phone": "+966112345678"}, 400, "invalid_phone", None),
        ({"phone": 501234567}, 400, "validation_error", "phone"),
        ({"phone": ["0501234567"]}, 400, "validation_error", "phone"),
        ({"phone": {"number": "0501234567"}}, 400, "validation_error", "phone"),
        ({"phone": None}, 400, "validation_error", "phone"),
        ({"phone": True}, 400, "validation_error", "phone"),
        ({}, 400, "validation_error", "phone"),
        ({"phone": PHONE, "channel": "fax"}, 400, "validation_error", "channel"),
        ({"phone": PHONE, "channel": ["sms"]}, 400, "validation_error", "channel"),
        ({"phone": PHONE, "channel": None}, 400, "validation_error", "channel"),
    ],
)
def test_request_refuses(api_client, authentica, body, status, code, field):
    english = error_of(api_client.post(REQUEST, body, HTTP_ACCEPT_LANGUAGE="en"), status, code)
    arabic = error_of(api_client.post(REQUEST, body, HTTP_ACCEPT_LANGUAGE="ar"), status, code)
    assert not ARABIC.search(english["message"]) and ARABIC.search(arabic["message"])
    if field:
        assert list(english["fields"]) == [field]
    assert authentica.journal() == []
    assert not OtpChallenge.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": PHONE, "code": "12345a"}, "code"),
        ({"phone": PHONE, "code": "12345"}, "code"),
        ({"phone": PHONE, "code": "1234567"}, "code"),
        (
            {"phone": PHONE, "code": "\uff11\uff12\uff13\uff14\uff15\uff16"},
            "code",
        ),  # full-width digits are not a code
        ({"phone": PHONE, "code": "9" * 100_000}, "code"),
        ({"phone": PHONE, "code": 123456}, "code"),
        ({"phone": PHONE, "code": None}, "code"),
        ({"phone": PHONE, "code": ["123456"]}, "code"),
        ({"phone": PHONE}, "code"),
        ({"code": "123456"}, "phone"),
        ({"phone": 966501234567, "code": "123456"}, "phone"),
    ],
)
def test_verify_refuses_malformed_input_without_spending_an_attempt(api_client, authentica, body, field):
    assert request_code(api_client).status_code == 202
    error = error_of(api_client.post(VERIFY, body, HTTP_ACCEPT_LANGUAGE="ar"), 400, "validation_error")
    assert list(error["fields"]) == [field] and ARABIC.search(str(error["fields"]))
    assert OtpChallenge.objects.get().failed_attempts == 0
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("0112345678", "invalid_phone"),
        ("+201001234567", "phone_region_not_allowed"),
        ("x" * 40, "invalid_phone"),
    ],
)
def test_verify_refuses_numbers_that_cannot_log_in(api_client, phone, code):
    error_of(verify(api_client, phone, "123456"), 400, code)


@pytest.mark.parametrize("path", [REQUEST, VERIFY, "/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"])
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('["0501234567"]', "validation_error"),
        ("null", "validation_error"),
        ('"0501234567"', "validation_error"),
        ("42", "validation_error"),
        ("{not json", "parse_error"),
        ("", "validation_error"),
    ],
)
def test_bodies_that_are_not_objects(api_client, path, raw, code):
    response = api_client.generic("POST", path, raw, content_type="application/json")
    error_of(response, 400, code)


def test_a_form_body_is_refused(api_client):
    response = api_client.generic(
        "POST", REQUEST, "phone=0501234567", content_type="application/x-www-form-urlencoded"
    )
    error_of(response, 415, "unsupported_media_type")


def test_a_huge_body_is_refused(api_client):
    raw = json.dumps({"phone": "0" * 3_000_000})
    error_of(
        api_client.generic("POST", REQUEST, raw, content_type="application/json"), 413, "request_too_large"
    )
