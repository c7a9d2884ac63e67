"""Fake Authentica through real HTTP: OTP, SMS, auth and error shapes."""

from collections.abc import Iterator

import pytest
import requests

from backend.fakes import FakeAuthentica

KEY = "key-under-test"
PHONE = "+966501234567"


@pytest.fixture
def fake() -> Iterator[FakeAuthentica]:
    with FakeAuthentica(api_key=KEY) as server:
        yield server


def post(fake: FakeAuthentica, path: str, body: object, key: str | None = KEY) -> requests.Response:
    headers = {"Accept": "application/json"} | ({"X-Authorization": key} if key is not None else {})
    return requests.post(f"{fake.url}{path}", json=body, headers=headers, timeout=5)


def test_send_otp_with_our_code(fake: FakeAuthentica) -> None:
    sent = post(fake, "/send-otp", {"method": "sms", "phone": PHONE, "template_id": 1, "otp": "0427"})
    assert sent.status_code == 200
    assert sent.json() == {"success": True, "data": None, "message": "OTP send successfully"}
    assert fake.last_otp(PHONE) == "0427"
    [message] = fake.messages()
    assert message | {"created_at": None} == {
        "kind": "otp",
        "method": "sms",
        "to": PHONE,
        "otp": "0427",
        "template_id": 1,
        "created_at": None,
    }


def test_send_otp_generates_a_code_when_none_is_given(fake: FakeAuthentica) -> None:
    assert post(fake, "/send-otp", {"method": "whatsapp", "phone": PHONE}).status_code == 200
    code = fake.last_otp(PHONE)
    assert code is not None and code.isdigit() and len(code) == 6


def test_send_otp_by_email(fake: FakeAuthentica) -> None:
    sent = post(fake, "/send-otp", {"method": "email", "email": "client@example.com", "otp": 123456})
    assert sent.status_code == 200
    assert fake.last_otp("client@example.com") == "123456"


def test_last_otp_over_http(fake: FakeAuthentica) -> None:
    post(fake, "/send-otp", {"method": "sms", "phone": PHONE, "otp": "9876"})
    control = f"{fake.root_url}/_control/otp"
    encoded = requests.get(control, params={"phone": PHONE}, timeout=5)
    assert encoded.json() == {"recipient": PHONE, "otp": "9876"}
    typed_by_hand = requests.get(f"{control}?phone={PHONE}", timeout=5)  # '+' arrives as a space
    assert typed_by_hand.json()["otp"] == "9876"
    assert requests.get(control, params={"phone": "+966500000000"}, timeout=5).status_code == 404
    assert requests.get(control, timeout=5).status_code == 400


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_every_route_needs_the_api_key(fake: FakeAuthentica, key: str | None) -> None:
    for path in ("/send-otp", "/verify-otp", "/send-sms"):
        refused = post(fake, path, {"method": "sms", "phone": PHONE}, key=key)
        assert refused.status_code == 401
        assert refused.json() == {"errors": [{"message": "Unauthorized"}]}
    assert fake.messages() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "fax", "phone": PHONE}, "method"),
        ({"method": "sms", "phone": "966501234567"}, "phone"),
        ({"method": "sms", "phone": "0501234567"}, "phone"),
        ({"method": "sms"}, "phone"),
        ({"method": "email", "email": "not-an-email"}, "email"),
        ({"method": "sms", "phone": PHONE, "template_id": "1"}, "template id"),
        ({"method": "sms", "phone": PHONE, "otp": "12ab"}, "otp"),
        ({"method": "sms", "phone": PHONE, "otp": True}, "otp"),
        ({"method": "sms", "phone": PHONE, "fallback_phone": "0500"}, "fallback phone"),
        ({"method": "sms", "phone": PHONE, "fallback_email": "x"}, "fallback email"),
        (["not", "an", "object"], "body"),
    ],
)
def test_send_otp_validation(fake: FakeAuthentica, body: object, field: str) -> None:
    refused = post(fake, "/send-otp", body)
    assert refused.status_code == 422
    assert refused.json()["success"] is False
    assert field in refused.json()["message"]
    assert fake.messages() == []


def test_malformed_json_is_refused(fake: FakeAuthentica) -> None:
    refused = requests.post(
        f"{fake.url}/send-otp",
        data="{oops",
        headers={"X-Authorization": KEY, "Content-Type": "application/json"},
        timeout=5,
    )
    assert refused.status_code == 400
    assert refused.json() == {"success": False, "message": "Malformed JSON body"}


def test_verify_otp_accepts_the_last_code_once(fake: FakeAuthentica) -> None:
    post(fake, "/send-otp", {"method": "sms", "phone": PHONE, "otp": "1111"})
    post(fake, "/send-otp", {"method": "sms", "phone": PHONE, "otp": "2222"})
    stale = post(fake, "/verify-otp", {"phone": PHONE, "otp": "1111"})
    assert (stale.status_code, stale.json()) == (400, {"status": False, "message": "Invalid OTP"})
    verified = post(fake, "/verify-otp", {"phone": PHONE, "otp": "2222"})
    assert (verified.status_code, verified.json()["status"]) == (200, True)
    assert post(fake, "/verify-otp", {"phone": PHONE, "otp": "2222"}).status_code == 400
    assert post(fake, "/verify-otp", {"phone": PHONE}).status_code == 422


def test_send_sms_is_recorded(fake: FakeAuthentica) -> None:
    body = {"phone": PHONE, "message": "موعدك غداً الساعة 5", "sender_name": "Salon"}
    sent = post(fake, "/send-sms", body)
    assert (sent.status_code, sent.json()) == (200, {"success": True, "message": "SMS sent successfully"})
    [message] = requests.get(f"{fake.root_url}/_control/messages", timeout=5).json()
    assert message["kind"] == "sms"
    assert (message["to"], message["message"], message["sender_name"]) == (PHONE, body["message"], "Salon")


@pytest.mark.parametrize("missing", ["phone", "message", "sender_name"])
def test_send_sms_validation(fake: FakeAuthentica, missing: str) -> None:
    body = {"phone": PHONE, "message": "hello", "sender_name": "Salon"}
    del body[missing]
    refused = post(fake, "/send-sms", body)
    assert refused.status_code == 422
    assert refused.json()["success"] is False
