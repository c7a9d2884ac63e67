"""The WhatsApp webhook helpers: the signature over the raw body, the subscription challenge, status
payloads, and statuses applied out of order; end to end with the fake delivering signed webhooks to a
real receiver."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from backend.fakes.whatsapp import FakeWhatsApp
from backend.providers import whatsapp_webhook as webhook

SECRET = "app-secret-1"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


# --- signature --------------------------------------------------------------------------------------
def test_a_good_signature_over_the_raw_body_is_valid():
    header = webhook.sign(BODY, SECRET)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert webhook.signature_valid(BODY, header, SECRET)
    assert webhook.signature_valid(BODY, header.upper().replace("SHA256=", "sha256="), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        webhook.sign(BODY, "other-secret"),
        webhook.sign(BODY + b" ", SECRET),  # signed over other bytes
        webhook.sign(BODY, SECRET)[7:],  # no prefix
    ],
)
def test_a_bad_or_missing_signature_is_refused(header):
    assert not webhook.signature_valid(BODY, header, SECRET)


def test_reserialised_json_does_not_verify():
    reparsed = json.dumps(json.loads(BODY)).encode()  # spaces after separators: other bytes
    assert not webhook.signature_valid(reparsed, webhook.sign(BODY, SECRET), SECRET)


def test_an_empty_app_secret_accepts_nothing():
    assert not webhook.signature_valid(BODY, webhook.sign(BODY, ""), "")


# --- subscription challenge ------------------------------------------------------------------------
def test_the_challenge_is_echoed_for_our_verify_token():
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "vt"}
    assert webhook.challenge_answer(query, "vt") == "1158201444"


@pytest.mark.parametrize(
    ("query", "verify_token"),
    [
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"}, "vt"),
        ({"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "vt"}, "vt"),
        ({"hub.mode": "subscribe", "hub.verify_token": "vt"}, "vt"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "vt"),
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}, ""),
    ],
)
def test_a_wrong_challenge_is_refused(query, verify_token):
    assert webhook.challenge_answer(query, verify_token) is None


# --- parsing ----------------------------------------------------------------------------------------
def status(wamid, name, **extra):
    return {"id": wamid, "status": name, "timestamp": "1767225600", "recipient_id": "966501234567"} | extra


def test_statuses_are_read_across_batched_entries_and_changes():
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": "555"},
                            "statuses": [status("wamid.A", "sent"), status("wamid.A", "delivered")],
                            "unknown": {"nested": True},
                        },
                    },
                    {"field": "account_update", "value": {"statuses": [status("wamid.X", "sent")]}},
                ],
            },
            {
                "changes": [
                    {
                        "value": {
                            "statuses": [
                                status(
                                    "wamid.B",
                                    "failed",
                                    errors=[{"code": 131026, "title": "x"}, {"code": "131049"}],
                                ),
                                status("wamid.C", "read", timestamp="not a time", recipient_id=None),
                            ]
                        }
                    }
                ]
            },
        ],
    }
    updates = webhook.parse_statuses(payload)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert [(u.wamid, u.status, u.error_codes) for u in updates] == [
        ("wamid.A", "sent", ()),
        ("wamid.A", "delivered", ()),
        ("wamid.B", "failed", (131026, 131049)),
        ("wamid.C", "read", ()),
    ]
    assert updates[0].timestamp == moment and updates[0].recipient_id == "966501234567"
    assert (updates[3].timestamp, updates[3].recipient_id) == (None, None)


def test_the_echoed_callback_data_is_read_when_it_is_a_string():
    def payload(**extra) -> dict:
        item = {"id": "wamid.A", "status": "sent", **extra}
        return {"entry": [{"changes": [{"value": {"statuses": [item]}}]}]}

    assert webhook.parse_statuses(payload(biz_opaque_callback_data="row-7"))[0].callback_data == "row-7"
    assert webhook.parse_statuses(payload())[0].callback_data == ""
    assert webhook.parse_statuses(payload(biz_opaque_callback_data={"x": 1}))[0].callback_data == ""


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {},
        {"entry": "x"},
        {
            "entry": [
                None,
                {"changes": None},
                {"changes": [None, {"value": None}, {"value": {"statuses": "x"}}]},
            ]
        },
        {"entry": [{"changes": [{"value": {"messages": [{"from": "9665", "text": {"body": "hi"}}]}}]}]},
        {
            "entry": [
                {"changes": [{"value": {"statuses": [None, {"id": "", "status": "sent"}, {"id": "w"}]}}]}
            ]
        },
        {"entry": [{"changes": [{"value": {"statuses": [{"id": 5, "status": "sent"}]}}]}]},
    ],
)
def test_payloads_without_usable_statuses_parse_to_nothing(payload):
    assert webhook.parse_statuses(payload) == []


def test_odd_error_lists_and_timestamps_are_tolerated():
    payload = {
        "entry": [
            {
                "changes": [
                    {
                        "value": {
                            "statuses": [
                                status("w", "failed", errors="x", timestamp=None),
                                status(
                                    "w",
                                    "failed",
                                    errors=[None, {"code": True}, {"code": "abc"}],
                                    timestamp="9" * 30,
                                ),
                            ]
                        }
                    }
                ]
            }
        ]
    }
    assert [(u.error_codes, u.timestamp) for u in webhook.parse_statuses(payload)] == [((), None), ((), None)]


# --- ordering ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "incoming", "applies"),
    [
        (None, "sent", True),
        (None, "delivered", True),
        (None, "failed", True),
        ("sent", "delivered", True),
        ("sent", "read", True),
        ("delivered", "read", True),
        ("sent", "failed", True),
        ("sent", "sent", False),
        ("delivered", "sent", False),
        ("read", "delivered", False),
        ("delivered", "failed", False),
        ("read", "failed", False),
        ("failed", "delivered", False),
        ("failed", "read", False),
        ("failed", "failed", False),
        (None, "deleted", False),
        ("sent", "warning", False),
    ],
)
def test_statuses_only_move_forward_and_failed_is_terminal(current, incoming, applies):
    assert webhook.status_advances(current, incoming) is applies


def apply_all(statuses: list[str]) -> str | None:
    current = None
    for incoming in statuses:
        if webhook.status_advances(current, incoming):
            current = incoming
    return current


@pytest.mark.parametrize(
    ("order", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered", "sent"], "read"),
        (["delivered", "sent", "read", "delivered"], "read"),
        (["sent", "failed", "delivered"], "failed"),  # a late delivered after failed changes nothing
        (["failed", "sent"], "failed"),
        (["delivered", "failed"], "delivered"),
    ],
)
def test_any_order_of_arrival_ends_in_one_state(order, final):
    assert apply_all(order) == final


# --- end to end: the fake's signed webhooks to a real receiver --------------------------------------
class Receiver:
    """A webhook endpoint the way the later view will work: raw body, signature, parse, apply."""

    def __init__(self, app_secret: str, verify_token: str) -> None:
        self.app_secret, self.verify_token = app_secret, verify_token
        self.state: dict[str, str] = {}
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                answer = webhook.challenge_answer(
                    dict(parse_qsl(urlsplit(self.path).query)), receiver.verify_token
                )
                self.reply(200 if answer is not None else 403, (answer or "").encode())

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if not webhook.signature_valid(
                    raw, self.headers.get("X-Hub-Signature-256"), receiver.app_secret
                ):
                    receiver.refused += 1
                    return self.reply(401, b"")
                for update in webhook.parse_statuses(json.loads(raw)):
                    if webhook.status_advances(receiver.state.get(update.wamid), update.status):
                        receiver.state[update.wamid] = update.status
                return self.reply(200, b"")

            def reply(self, code, data):
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notifications/webhooks/whatsapp/"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(SECRET, "vt")
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def fake(receiver, settings) -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp(webhook_url=receiver.url, app_secret=SECRET) as server:
        settings.WHATSAPP_BASE_URL = server.url
        settings.WHATSAPP_TOKEN = server.access_token
        settings.WHATSAPP_PHONE_NUMBER_ID = server.phone_number_id
        yield server


def test_out_of_order_signed_statuses_end_read(fake, receiver):
    from backend.providers import whatsapp

    fake.configure(auto_statuses=["sent", "delivered", "read"], out_of_order=True)
    wamid = whatsapp.send_template(
        phone="+966501234567", template="t", language="ar", parameters=["x"], timeout=5
    ).message_id
    assert fake.wait_webhooks()
    assert [
        d["payload"]["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] for d in fake.webhooks()
    ] == [
        "read",
        "delivered",
        "sent",
    ]
    assert {d["status"] for d in fake.webhooks()} == {200}
    assert receiver.state == {wamid: "read"}


def test_a_late_delivered_after_failed_changes_nothing(fake, receiver):
    fake.deliver_statuses("wamid.F", ["sent", "failed", "delivered"], batch=True)
    assert receiver.state == {"wamid.F": "failed"}


def test_a_webhook_signed_with_another_secret_is_refused(fake, receiver):
    fake.configure(app_secret="not-ours")
    [delivery] = fake.deliver_statuses("wamid.G", ["delivered"])
    assert delivery["status"] == 401 and receiver.refused == 1 and receiver.state == {}


def test_the_subscription_challenge_round_trip(fake):
    assert fake.subscribe("vt")["verified"] is True
    assert fake.subscribe("wrong") == {"status": 403, "verified": False}
