"""Fake WhatsApp Cloud API through real HTTP: template sends, Meta's error shape and codes, switches,
signed status webhooks and the subscription check."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from backend.fakes import ControlError, FakeWhatsApp

TOKEN = "token-under-test"
SECRET = "secret-under-test"


class Hook:
    """Records every webhook POST (raw body and signature) and answers `answer`."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, str]] = []
        self.answer = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                hook.calls.append((raw, self.headers.get("X-Hub-Signature-256", "")))
                self.send_response(hook.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                self.send_response(200)
                body = b"not the challenge"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def fake(hook) -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp(
        access_token=TOKEN, phone_number_id="42", app_secret=SECRET, webhook_url=hook.url
    ) as server:
        yield server


def send(fake: FakeWhatsApp, token: str = TOKEN, number_id: str = "42", **fields) -> requests.Response:
    body = {
        "messaging_product": "whatsapp",
        "to": "966501234567",
        "type": "template",
        "template": {
            "name": "confirm",
            "language": {"code": "ar"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "A"}, "junk"]}],
        },
    } | fields
    return requests.post(
        f"{fake.url}/{number_id}/messages", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def error_of(answer: requests.Response) -> tuple[int, int]:
    return answer.status_code, answer.json()["error"]["code"]


def test_a_template_message_answers_a_wamid_and_is_recorded(fake):
    answer = send(fake)
    assert answer.status_code == 200
    body = answer.json()
    assert body["contacts"] == [{"input": "966501234567", "wa_id": "966501234567"}]
    wamid = body["messages"][0]["id"]
    assert fake.messages() == [
        {"wamid": wamid, "to": "966501234567", "template": "confirm", "language": "ar", "parameters": ["A"]}
    ]
    assert requests.get(f"{fake.root_url}/_control/messages", timeout=5).json() == fake.messages()
    other = requests.post(
        f"{fake.root_url}/v17.0/42/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "+966501234568",
            "type": "template",
            "template": {"name": "x"},
        },
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert other.status_code == 200 and fake.messages()[1]["parameters"] == []


def test_auth_number_id_and_body_are_checked(fake):
    assert error_of(send(fake, token="wrong")) == (401, 190)
    assert send(fake, token="wrong").json()["error"]["message"] == "(#190) Error validating access token"
    assert error_of(send(fake, number_id="43")) == (400, 100)
    assert error_of(send(fake, type="text")) == (400, 100)
    assert error_of(send(fake, template="x")) == (400, 100)
    assert error_of(send(fake, to="0501234567x")) == (400, 100)
    assert fake.messages() == []


def test_configured_templates_are_checked(fake):
    fake.configure(templates={"confirm": {"ar": 1, "en": 2}})
    assert send(fake).status_code == 200
    assert error_of(send(fake, template={"name": "confirm", "language": {"code": "fr"}})) == (400, 132001)
    assert error_of(send(fake, template={"name": "other", "language": "ar"})) == (400, 132001)
    assert error_of(send(fake, template={"name": "confirm", "language": {"code": "en"}})) == (400, 132000)


def test_switches(fake):
    fake.configure(not_on_whatsapp=["+966501234567"], rate_limit_next=1)
    assert error_of(send(fake)) == (429, 130429)
    assert error_of(send(fake)) == (400, 131026)
    fake.configure(not_on_whatsapp=[], outage=True)
    assert error_of(send(fake)) == (503, 2)
    fake.configure(outage=False)
    assert send(fake).status_code == 200


def test_injected_failures_carry_metas_codes(fake):
    for status, code in [(500, 131000), (401, 190), (418, 1)]:
        fake.fail_next(1, status=status)
        assert error_of(send(fake)) == (status, code)


def test_statuses_are_delivered_signed_over_the_raw_body(fake, hook):
    wamid = send(fake).json()["messages"][0]["id"]
    records = fake.deliver_statuses(wamid, ["sent", "delivered"])
    assert [record["status"] for record in records] == [200, 200]
    assert len(hook.calls) == 2
    for raw, signature in hook.calls:
        assert signature == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    payload = json.loads(hook.calls[0][0])
    assert payload["object"] == "whatsapp_business_account"
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == "42"
    [status] = value["statuses"]
    assert (status["id"], status["status"], status["recipient_id"]) == (wamid, "sent", "966501234567")
    assert status["timestamp"].isdigit() and "pricing" in status
    assert fake.webhooks()[0]["payload"] == payload


def test_the_callback_data_is_echoed_in_every_status_of_its_message(fake, hook):
    wamid = send(fake, biz_opaque_callback_data="row-7").json()["messages"][0]["id"]
    assert fake.messages()[0]["callback_data"] == "row-7"
    fake.deliver_statuses(wamid, ["sent", "delivered"], batch=True)
    statuses = json.loads(hook.calls[0][0])["entry"][0]["changes"][0]["value"]["statuses"]
    assert [status["biz_opaque_callback_data"] for status in statuses] == ["row-7", "row-7"]
    plain = send(fake).json()["messages"][0]["id"]  # none sent: none echoed, as Meta
    fake.deliver_statuses(plain, ["sent"])
    assert (
        "biz_opaque_callback_data"
        not in json.loads(hook.calls[1][0])["entry"][0]["changes"][0]["value"]["statuses"][0]
    )
    for wrong in ("x" * 513, 7):
        assert error_of(send(fake, biz_opaque_callback_data=wrong)) == (400, 100)
    assert len(fake.messages()) == 2


def test_auto_statuses_are_posted_again_until_answered_200_when_asked(fake, hook):
    hook.answer = 503
    fake.configure(auto_statuses=["sent", "delivered"])
    send(fake)
    assert fake.wait_webhooks()
    assert len(hook.calls) == 2  # by default each once, whatever the answer
    fake.configure(webhook_retries=2)
    send(fake)
    assert fake.wait_webhooks(timeout=10)
    assert [record["status"] for record in fake.webhooks()[2:]] == [503] * 6  # 3 tries of each
    hook.answer = 200
    send(fake)
    assert fake.wait_webhooks()
    assert len(hook.calls) == 10
    with pytest.raises(ControlError):
        fake.configure(webhook_retries=-1)


def test_failed_carries_errors_and_batches_share_one_payload(fake, hook):
    fake.deliver_statuses("wamid.unknown", ["sent", "failed"], batch=True)
    [(raw, _)] = hook.calls
    sent, failed = json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"]
    assert sent["recipient_id"] == "966110000000" and "errors" not in sent
    assert failed["errors"][0]["code"] == 131026
    fake.deliver_statuses("wamid.x", ["failed"], errors=[{"code": 131049}])
    assert json.loads(hook.calls[1][0])["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"] == [
        {"code": 131049}
    ]


def test_auto_statuses_in_and_out_of_order(fake, hook):
    fake.configure(auto_statuses=["sent", "delivered", "read"], out_of_order=True)
    send(fake)
    assert fake.wait_webhooks()
    order = [
        json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] for raw, _ in hook.calls
    ]
    assert order == ["read", "delivered", "sent"]


def test_receiver_failures_are_recorded(fake, hook):
    hook.answer = 500
    assert fake.deliver_statuses("w", ["sent"])[0]["status"] == 500
    fake.configure(webhook_url="http://127.0.0.1:9/unreachable")
    record = fake.deliver_statuses("w", ["sent"])[0]
    assert (record["status"], record["error"]) == (None, "URLError")
    fake.configure(webhook_url=None)
    with pytest.raises(ControlError, match="no webhook_url"):
        fake.deliver_statuses("w", ["sent"])


def test_control_statuses_and_webhooks(fake, hook):
    url = f"{fake.root_url}/_control"
    answer = requests.post(f"{url}/statuses", json={"wamid": "w1", "statuses": ["delivered"]}, timeout=5)
    assert answer.status_code == 200 and answer.json()[0]["status"] == 200
    assert requests.get(f"{url}/webhooks", timeout=5).json() == fake.webhooks()
    for body in (
        {"statuses": ["sent"]},
        {"wamid": "w", "statuses": ["lost"]},
        {"wamid": "w", "statuses": ["sent"], "batch": "yes"},
        {"wamid": "w", "statuses": ["sent"], "errors": "x"},
    ):
        assert requests.post(f"{url}/statuses", json=body, timeout=5).status_code == 400


def test_subscribe_checks_the_echo(fake, hook):
    answer = requests.post(f"{fake.root_url}/_control/subscribe", json={"verify_token": "vt"}, timeout=5)
    assert answer.json() == {"status": 200, "verified": False}  # the hook does not echo the challenge
    fake.configure(webhook_url=hook.url.replace("/hook", "/missing"))
    hook.server.RequestHandlerClass.do_GET = lambda self: self.send_error(404)
    assert fake.subscribe("vt") == {"status": 404, "verified": False}
    fake.configure(webhook_url="http://127.0.0.1:9/unreachable")
    assert fake.subscribe("vt") == {"status": None, "verified": False}


def test_settings_are_validated(fake):
    for setting, value in [
        ("not_on_whatsapp", "9665"),
        ("auto_statuses", ["gone"]),
        ("out_of_order", 1),
        ("rate_limit_next", -1),
        ("webhook_url", "ftp://x"),
        ("app_secret", 5),
        ("templates", {"t": {"ar": "one"}}),
    ]:
        with pytest.raises(ControlError):
            fake.configure(**{setting: value})


def test_reset_forgets_messages_and_deliveries(fake):
    fake.deliver_statuses(send(fake).json()["messages"][0]["id"], ["sent"])
    fake.reset()
    assert (fake.messages(), fake.webhooks()) == ([], [])
