"""Fake Moyasar through real HTTP: payments, 3-D Secure stand-in, capture/refund/void, webhooks."""

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from backend.fakes import FakeMoyasar

SECRET = "sk_test_under_test"
WEBHOOK_SECRET = "whsec-under-test"
PAYMENT_KEYS = {
    "id", "status", "amount", "fee", "currency", "refunded", "refunded_at", "captured", "captured_at",
    "voided_at", "description", "invoice_id", "ip", "callback_url", "created_at", "updated_at", "source",
    "metadata",
}  # fmt: skip
SOURCE_KEYS = {
    "type", "company", "name", "number", "message", "transaction_url", "gateway_id", "reference_number",
}  # fmt: skip


class Receiver:
    """A tiny webhook endpoint: keeps every JSON body, answers ``status``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/moyasar"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def fake(receiver: Receiver) -> Iterator[FakeMoyasar]:
    with FakeMoyasar(secret_key=SECRET, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET) as server:
        yield server


def api(
    fake: FakeMoyasar, method: str, path: str, body: Any = None, auth: Any = (SECRET, "")
) -> requests.Response:
    return requests.request(method, f"{fake.url}{path}", json=body, auth=auth, timeout=5)


def control(fake: FakeMoyasar, path: str, body: Any = None) -> requests.Response:
    return requests.post(f"{fake.root_url}/_control/{path}", json=body, timeout=5)


def payment_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "amount": 15000,
        "currency": "SAR",
        "description": "Booking 42",
        "callback_url": "https://app.example/payments/return",
        "source": {"type": "token", "token": "token_abc123"},
        "metadata": {"booking_id": "42"},
        "given_id": str(uuid.uuid4()),
    }
    return body | overrides


def create(fake: FakeMoyasar, **overrides: Any) -> dict[str, Any]:
    created = api(fake, "POST", "/payments", payment_body(**overrides))
    assert created.status_code == 201, created.text
    return created.json()


def paid(fake: FakeMoyasar, **overrides: Any) -> dict[str, Any]:
    payment = create(fake, **overrides)
    return fake.complete(payment["id"], webhook=False)


# -- auth ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, ("sk_test_wrong", ""), (SECRET, "password"), ("", SECRET)])
def test_calls_need_the_secret_key_as_basic_username(fake: FakeMoyasar, auth: Any) -> None:
    refused = api(fake, "POST", "/payments", payment_body(), auth=auth)
    assert refused.status_code == 401
    assert refused.json() == {
        "type": "authentication_error",
        "message": "Invalid authorization credentials",
        "errors": None,
    }
    assert fake.payments() == []


def test_a_malformed_authorization_header_is_refused(fake: FakeMoyasar) -> None:
    for header in ("Basic !!!", "Bearer " + SECRET, "Basic"):
        refused = requests.get(f"{fake.url}/payments", headers={"Authorization": header}, timeout=5)
        assert refused.status_code == 401


# -- create and fetch ------------------------------------------------------------------------------


def test_create_answers_an_initiated_payment_shaped_like_moyasars(fake: FakeMoyasar) -> None:
    body = payment_body()
    created = api(fake, "POST", "/payments", body)
    assert created.status_code == 201
    payment = created.json()
    assert payment.keys() >= PAYMENT_KEYS
    assert payment["source"].keys() >= SOURCE_KEYS
    assert payment["id"] == body["given_id"]
    assert (payment["status"], payment["amount"], payment["currency"]) == ("initiated", 15000, "SAR")
    assert (payment["refunded"], payment["captured"], payment["fee"]) == (0, 0, 0)
    assert payment["metadata"] == {"booking_id": "42"}
    assert payment["source"]["transaction_url"] == f"{fake.root_url}/_control/3ds/{payment['id']}"
    assert payment["source"]["number"] == "XXXX-XXXX-XXXX-1111"
    assert payment["created_at"].endswith("Z")


def test_without_given_id_the_fake_makes_an_id(fake: FakeMoyasar) -> None:
    body = payment_body()
    del body["given_id"]
    created = api(fake, "POST", "/payments", body).json()
    assert uuid.UUID(created["id"])


def test_a_reused_given_id_is_refused_and_the_payment_can_be_fetched(fake: FakeMoyasar) -> None:
    body = payment_body()
    first = api(fake, "POST", "/payments", body).json()
    again = api(fake, "POST", "/payments", body | {"amount": 20000})
    assert again.status_code == 400
    assert again.json()["type"] == "used_given_id"
    fetched = api(fake, "GET", f"/payments/{body['given_id']}")
    assert (fetched.status_code, fetched.json()) == (200, first)


def test_fetching_an_unknown_payment_answers_404(fake: FakeMoyasar) -> None:
    missing = api(fake, "GET", f"/payments/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json() == {"type": "invalid_request_error", "message": "Object not found", "errors": None}


def test_list_payments_newest_first(fake: FakeMoyasar) -> None:
    ids = [create(fake)["id"] for _ in range(3)]
    listed = api(fake, "GET", "/payments").json()
    assert [p["id"] for p in listed["payments"]] == ids[::-1]
    assert listed["meta"]["total_count"] == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 99}, "amount"),
        ({"amount": "15000"}, "amount"),
        ({"amount": None}, "amount"),
        ({"currency": "sar"}, "currency"),
        ({"given_id": "not-a-uuid"}, "given_id"),
        ({"callback_url": "javascript:alert(1)"}, "callback_url"),
        ({"description": 5}, "description"),
        ({"metadata": {str(i): i for i in range(31)}}, "metadata"),
        ({"metadata": {"nested": {"no": 1}}}, "metadata"),
        ({"metadata": ["no"]}, "metadata"),
        ({"source": None}, "source"),
        ({"source": {"type": "cash"}}, "source.type"),
        ({"source": {"type": "token"}}, "source.token"),
        ({"source": {"type": "token", "token": "t", "manual": "yes"}}, "source.manual"),
        ({"source": {"type": "token", "token": "t"}, "callback_url": None}, "callback_url"),
        ({"source": {"type": "stcpay", "mobile": "+966501234567"}}, "source.mobile"),
        ({"source": {"type": "creditcard", "name": "A B", "number": "4111111111111112", "cvc": "123",
                     "month": 1, "year": 2030}}, "source.number"),
        ({"source": {"type": "creditcard", "name": "A B", "number": "4111111111111111", "cvc": "1",
                     "month": 13, "year": "next"}}, "source.month"),
    ],
)  # fmt: skip
def test_create_validation(fake: FakeMoyasar, overrides: dict[str, Any], field: str) -> None:
    refused = api(fake, "POST", "/payments", payment_body(**overrides))
    assert refused.status_code == 400
    body = refused.json()
    assert (body["type"], body["message"]) == ("invalid_request_error", "Validation Failed")
    assert field in body["errors"]
    assert fake.payments() == []


def test_create_refuses_a_body_that_is_not_an_object(fake: FakeMoyasar) -> None:
    refused = api(fake, "POST", "/payments", [1, 2])
    assert (refused.status_code, refused.json()["errors"]) == (400, {"base": ["must be a JSON object"]})


def test_a_credit_card_is_masked_and_its_brand_named(fake: FakeMoyasar) -> None:
    card = {"type": "creditcard", "name": "Sara A", "number": "5421080101000000", "cvc": "123",
            "month": "09", "year": "2030"}  # fmt: skip
    source = create(fake, source=card)["source"]
    assert (source["company"], source["name"], source["number"]) == (
        "master",
        "Sara A",
        "XXXX-XXXX-XXXX-0000",
    )


def test_stcpay_waits_for_its_otp_step(fake: FakeMoyasar) -> None:
    source = create(fake, source={"type": "stcpay", "mobile": "0501234567"}, callback_url=None)["source"]
    assert (source["mobile"], source["company"], source["number"]) == ("0501234567", None, None)
    assert source["transaction_url"]


def test_wallet_payments_settle_at_creation(fake: FakeMoyasar, receiver: Receiver) -> None:
    apple = create(fake, source={"type": "applepay", "token": '{"paymentData": {}}'})
    assert (apple["status"], apple["source"]["message"]) == ("paid", "APPROVED")
    assert apple["source"]["transaction_url"] is None
    declined = create(fake, source={"type": "samsungpay", "token": "token_decline_1"})
    assert (declined["status"], declined["source"]["message"]) == ("failed", "Declined")
    manual = create(fake, source={"type": "applepay", "token": "t", "manual": True})
    assert manual["status"] == "authorized"
    assert fake.wait_webhooks(timeout=5)
    assert sorted(e["type"] for e in receiver.bodies) == [
        "payment_authorized",
        "payment_failed",
        "payment_paid",
    ]


# -- completion (the 3-D Secure stand-in) ---------------------------------------------------------


def test_complete_over_http_pays_and_posts_the_webhook(fake: FakeMoyasar, receiver: Receiver) -> None:
    payment = create(fake)
    completed = control(fake, f"payments/{payment['id']}/complete", {"status": "paid"})
    assert completed.status_code == 200
    assert (completed.json()["status"], completed.json()["source"]["message"]) == ("paid", "APPROVED")
    assert api(fake, "GET", f"/payments/{payment['id']}").json()["status"] == "paid"

    [event] = receiver.bodies  # delivered before the control call answered
    assert event["type"] == "payment_paid"
    assert event["secret_token"] == WEBHOOK_SECRET
    assert (event["live"], event["account_name"]) == (False, "Fake Salon")
    assert uuid.UUID(event["id"]) and event["created_at"].endswith("Z")
    assert event["data"] == completed.json()


def test_complete_follows_the_decline_and_manual_hints(fake: FakeMoyasar, receiver: Receiver) -> None:
    declined = create(fake, source={"type": "token", "token": "token_decline_insufficient"})
    assert fake.complete(declined["id"])["status"] == "failed"
    hinted = create(fake, metadata={"fake_decline": "Insufficient Funds"})
    result = fake.complete(hinted["id"])
    assert (result["status"], result["source"]["message"]) == ("failed", "Insufficient Funds")
    manual = create(fake, source={"type": "token", "token": "token_ok", "manual": True})
    assert fake.complete(manual["id"], "paid")["status"] == "authorized"
    assert [e["type"] for e in receiver.bodies] == ["payment_failed", "payment_failed", "payment_authorized"]


def test_complete_explicit_failure_message(fake: FakeMoyasar) -> None:
    payment = create(fake)
    result = control(
        fake, f"payments/{payment['id']}/complete", {"status": "failed", "message": "3DS failed"}
    )
    assert result.json()["source"]["message"] == "3DS failed"


def test_complete_refusals(fake: FakeMoyasar) -> None:
    payment = create(fake)
    assert control(fake, f"payments/{uuid.uuid4()}/complete").status_code == 404
    assert control(fake, f"payments/{payment['id']}/complete", {"status": "refunded"}).status_code == 400
    assert control(fake, f"payments/{payment['id']}/complete", {"webhook": "no"}).status_code == 400
    assert control(fake, f"payments/{payment['id']}/complete").status_code == 200
    assert control(fake, f"payments/{payment['id']}/complete").status_code == 409


def test_complete_without_webhook(fake: FakeMoyasar, receiver: Receiver) -> None:
    payment = create(fake)
    control(fake, f"payments/{payment['id']}/complete", {"webhook": False})
    assert receiver.bodies == []
    assert fake.webhooks() == []


def test_three_d_secure_page_and_redirect_to_callback(fake: FakeMoyasar) -> None:
    payment = create(fake, callback_url="https://app.example/return?booking=42")
    page = requests.get(payment["source"]["transaction_url"], timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert payment["id"] in page.text
    answered = requests.post(
        payment["source"]["transaction_url"], data={"status": "paid"}, allow_redirects=False, timeout=5
    )
    assert answered.status_code == 302
    assert answered.headers["Location"] == (
        f"https://app.example/return?booking=42&id={payment['id']}&status=paid&message=APPROVED"
    )
    assert requests.get(f"{fake.root_url}/_control/3ds/{uuid.uuid4()}", timeout=5).status_code == 404


# -- capture, refund, void ------------------------------------------------------------------------


def test_partial_refunds_accumulate_until_refunded(fake: FakeMoyasar) -> None:
    payment = paid(fake)
    first = api(fake, "POST", f"/payments/{payment['id']}/refund", {"amount": 5000})
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["refunded"]) == ("paid", 5000)
    assert first.json()["refunded_at"]

    too_much = api(fake, "POST", f"/payments/{payment['id']}/refund", {"amount": 10001})
    assert too_much.status_code == 400
    assert too_much.json()["type"] == "invalid_request_error"
    assert "amount" in too_much.json()["errors"]

    rest = api(fake, "POST", f"/payments/{payment['id']}/refund")  # no amount: all that is left
    assert (rest.json()["status"], rest.json()["refunded"]) == ("refunded", 15000)
    again = api(fake, "POST", f"/payments/{payment['id']}/refund", {"amount": 100})
    assert again.status_code == 400
    assert again.json()["message"] == "Payment is refunded and cannot be refunded"


@pytest.mark.parametrize("amount", [0, -5, "100", True])
def test_refund_amount_must_be_a_positive_integer(fake: FakeMoyasar, amount: Any) -> None:
    payment = paid(fake)
    assert api(fake, "POST", f"/payments/{payment['id']}/refund", {"amount": amount}).status_code == 400


def test_only_paid_or_captured_payments_refund(fake: FakeMoyasar) -> None:
    initiated = create(fake)
    refused = api(fake, "POST", f"/payments/{initiated['id']}/refund")
    assert refused.status_code == 400
    assert refused.json() == {
        "type": "invalid_request_error",
        "message": "Payment is initiated and cannot be refunded",
        "errors": None,
    }
    assert api(fake, "POST", f"/payments/{uuid.uuid4()}/refund").status_code == 404


def test_capture_only_authorized_payments_and_partially(fake: FakeMoyasar) -> None:
    assert api(fake, "POST", f"/payments/{paid(fake)['id']}/capture").status_code == 400
    authorized = paid(fake, source={"type": "token", "token": "token_ok", "manual": True})
    assert authorized["status"] == "authorized"
    over = api(fake, "POST", f"/payments/{authorized['id']}/capture", {"amount": 15001})
    assert over.status_code == 400
    captured = api(fake, "POST", f"/payments/{authorized['id']}/capture", {"amount": 10000}).json()
    assert (captured["status"], captured["captured"], captured["amount"]) == ("captured", 10000, 15000)
    assert captured["captured_at"]
    assert api(fake, "POST", f"/payments/{authorized['id']}/capture").status_code == 400

    # A captured payment refunds up to what was captured.
    assert api(fake, "POST", f"/payments/{authorized['id']}/refund", {"amount": 10001}).status_code == 400
    refunded = api(fake, "POST", f"/payments/{authorized['id']}/refund", {"amount": 10000}).json()
    assert (refunded["status"], refunded["refunded"]) == ("refunded", 10000)


def test_void_authorized_or_unrefunded_paid_payments(fake: FakeMoyasar) -> None:
    authorized = paid(fake, source={"type": "token", "token": "token_ok", "manual": True})
    voided = api(fake, "POST", f"/payments/{authorized['id']}/void").json()
    assert (voided["status"], bool(voided["voided_at"])) == ("voided", True)
    assert api(fake, "POST", f"/payments/{authorized['id']}/refund").status_code == 400
    assert api(fake, "POST", f"/payments/{authorized['id']}/void").status_code == 400

    assert api(fake, "POST", f"/payments/{paid(fake)['id']}/void").json()["status"] == "voided"

    partly_refunded = paid(fake)
    api(fake, "POST", f"/payments/{partly_refunded['id']}/refund", {"amount": 100})
    refused = api(fake, "POST", f"/payments/{partly_refunded['id']}/void")
    assert (refused.status_code, refused.json()["type"]) == (400, "invalid_request_error")
    assert api(fake, "POST", f"/payments/{create(fake)['id']}/void").status_code == 400


# -- webhooks --------------------------------------------------------------------------------------


def test_api_changes_emit_webhooks_in_the_background(fake: FakeMoyasar, receiver: Receiver) -> None:
    authorized = paid(fake, source={"type": "token", "token": "token_ok", "manual": True})
    api(fake, "POST", f"/payments/{authorized['id']}/capture")
    api(fake, "POST", f"/payments/{authorized['id']}/refund", {"amount": 1000})
    api(fake, "POST", f"/payments/{paid(fake)['id']}/void")
    assert fake.wait_webhooks(timeout=5)
    assert sorted(e["type"] for e in receiver.bodies) == [
        "payment_captured",
        "payment_refunded",
        "payment_voided",
    ]
    refunded_event = next(e for e in receiver.bodies if e["type"] == "payment_refunded")
    assert refunded_event["data"]["refunded"] == 1000


def test_webhooks_are_listed_and_replayed_with_the_same_id(fake: FakeMoyasar, receiver: Receiver) -> None:
    fake.complete(create(fake)["id"])
    [record] = requests.get(f"{fake.root_url}/_control/webhooks", timeout=5).json()
    assert [d["status"] for d in record["deliveries"]] == [200]

    receiver.status = 500
    replayed = control(fake, f"webhooks/replay/{record['event']['id']}")
    assert (replayed.status_code, replayed.json()["status"]) == (200, 500)
    assert [e["id"] for e in receiver.bodies] == [record["event"]["id"]] * 2
    assert [d["status"] for d in fake.webhooks()[0]["deliveries"]] == [200, 500]
    assert control(fake, f"webhooks/replay/{uuid.uuid4()}").status_code == 404


def test_an_unreachable_receiver_is_recorded_not_fatal(fake: FakeMoyasar, receiver: Receiver) -> None:
    receiver.close()
    payment = fake.complete(create(fake)["id"])
    assert payment["status"] == "paid"
    [delivery] = fake.webhooks()[0]["deliveries"]
    assert delivery["status"] is None
    assert delivery["error"]


def test_webhook_settings_over_http(receiver: Receiver) -> None:
    with FakeMoyasar(secret_key=SECRET) as fake:
        fake.complete(create(fake)["id"])
        assert fake.webhooks() == []  # no URL configured: nothing is sent
        changed = control(fake, "config", {"webhook_url": receiver.url, "webhook_secret": "rotated"})
        assert (changed.json()["webhook_url"], changed.json()["webhook_secret"]) == (receiver.url, "rotated")
        assert control(fake, "config", {"webhook_url": "ftp://nope"}).status_code == 400
        fake.complete(create(fake)["id"])
        assert receiver.bodies[0]["secret_token"] == "rotated"

        control(fake, "config", {"webhook_url": None})
        event_id = fake.webhooks()[0]["event"]["id"]
        assert control(fake, f"webhooks/replay/{event_id}").status_code == 400


def test_reset_forgets_payments_and_events_but_keeps_webhook_settings(
    fake: FakeMoyasar, receiver: Receiver
) -> None:
    fake.complete(create(fake)["id"])
    fake.reset()
    assert (fake.payments(), fake.webhooks(), fake.journal()) == ([], [], [])
    assert fake.config()["webhook_url"] == receiver.url
