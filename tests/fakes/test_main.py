"""`python -m backend.fakes`: the fakes run in the foreground and stop cleanly on Ctrl-C."""

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import requests

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start the command; return it with the base URLs it printed, by variable name."""
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.fakes", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    expected = 7 if args[0] == "all" else 1
    lines = [process.stdout.readline() for _ in range(expected)]
    urls = dict(line.split()[0].split("=", 1) for line in lines)
    return process, urls


def free_ports(count: int) -> int:
    """A first port such that it and the next count - 1 are free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        try:
            for port in range(first, first + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no run of free ports")


def control_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/_control"


def interrupt(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=5)


def test_all_runs_the_seven_fakes_on_consecutive_ports() -> None:
    first = free_ports(7)
    process, urls = run("all", "--port", str(first), "--api-key", "cli-key")
    try:
        assert urls == {
            "AUTHENTICA_BASE_URL": f"http://127.0.0.1:{first}/api/v2",
            "UNIFONIC_BASE_URL": f"http://127.0.0.1:{first + 1}",
            "MOYASAR_BASE_URL": f"http://127.0.0.1:{first + 2}/v1",
            "ZATCA_BASE_URL": f"http://127.0.0.1:{first + 3}/e-invoicing/simulation",
            "FCM_BASE_URL": f"http://127.0.0.1:{first + 4}",
            "WHATSAPP_BASE_URL": f"http://127.0.0.1:{first + 5}/v21.0",
            "APPLE_JWKS_URL": f"http://127.0.0.1:{first + 6}/apple/auth/keys",
        }
        sent = requests.post(
            f"{urls['AUTHENTICA_BASE_URL']}/send-sms",
            json={"phone": "+966501234567", "message": "hi", "sender_name": "Salon"},
            headers={"X-Authorization": "cli-key"},
            timeout=5,
        )
        assert sent.json()["success"] is True
        for url in urls.values():
            assert requests.get(f"{control_url(url)}/config", timeout=5).ok
    finally:
        assert interrupt(process) == 0


def test_one_fake_with_its_options() -> None:
    process, urls = run("moyasar", "--secret-key", "sk_test_cli", "--webhook-url", "http://127.0.0.1:9/hook")
    try:
        listed = requests.get(f"{urls['MOYASAR_BASE_URL']}/payments", auth=("sk_test_cli", ""), timeout=5)
        assert listed.status_code == 200
        config = requests.get(f"{control_url(urls['MOYASAR_BASE_URL'])}/config", timeout=5)
        assert config.json()["webhook_url"] == "http://127.0.0.1:9/hook"
    finally:
        assert interrupt(process) == 0


def test_moyasar_webhooks_go_to_our_webhook_route_on_make_runs_port(monkeypatch) -> None:
    from django.urls import resolve

    from backend.fakes.__main__ import parse_args
    from backend.payments.views import PaymentWebhookView

    monkeypatch.delenv("PORT", raising=False)
    assert parse_args(["moyasar"]).webhook_url == "http://127.0.0.1:8000/api/v1/payments/webhook/"
    monkeypatch.setenv("PORT", "9000")
    url = parse_args(["moyasar"]).webhook_url
    assert url == "http://127.0.0.1:9000/api/v1/payments/webhook/"
    assert resolve(urlsplit(url).path).func.view_class is PaymentWebhookView
    assert parse_args(["moyasar", "--webhook-url", ""]).webhook_url == ""


def test_the_documented_webhook_paths_are_our_route() -> None:
    """Every webhook path the fakes' docs name is the route the API serves."""
    import re

    from django.urls import resolve

    from backend.notifications.webhook_views import WhatsAppWebhookView
    from backend.payments.views import PaymentWebhookView

    texts = [(ROOT / "backend/fakes/__main__.py").read_text(), (ROOT / "backend/fakes/README.md").read_text()]
    paths = {path for text in texts for path in re.findall(r"/api/v1/[\w/]*webhook[\w/]*", text)}
    assert paths == {"/api/v1/payments/webhook/", "/api/v1/notifications/webhooks/whatsapp/"}
    ours = {PaymentWebhookView, WhatsAppWebhookView}
    assert all(resolve(path).func.view_class in ours for path in paths)
    assert "/work/" not in texts[1]  # the README points at nothing outside the repository


def test_no_webhook_url_posts_nothing() -> None:
    process, urls = run("moyasar", "--webhook-url", "")
    try:
        config = requests.get(f"{control_url(urls['MOYASAR_BASE_URL'])}/config", timeout=5)
        assert config.json()["webhook_url"] is None
        assert process.stdout.readline().strip() == "moyasar webhooks go to nowhere"
    finally:
        assert interrupt(process) == 0


def test_fatoora_with_its_otp() -> None:
    process, urls = run("fatoora", "--otp", "654321")
    try:
        refused = requests.post(
            f"{urls['ZATCA_BASE_URL']}/compliance",
            json={"csr": "x"},
            headers={"Accept-Version": "V2", "OTP": "123345"},
            timeout=5,
        )
        assert refused.status_code == 400 and refused.json()["code"] == "Invalid-OTP"
    finally:
        assert interrupt(process) == 0


def test_fcm_writes_a_service_account_file_that_gets_a_token(tmp_path) -> None:
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    key_file = tmp_path / "dev" / "fcm.json"
    process, urls = run("fcm", "--project-id", "dev-project", "--credentials-out", str(key_file))
    try:
        info = json.loads(key_file.read_text())
        assert (info["type"], info["project_id"]) == ("service_account", "dev-project")
        assert info["token_uri"] == f"{urls['FCM_BASE_URL']}/token"
        assert key_file.stat().st_mode & 0o777 == 0o600
        credentials = service_account.Credentials.from_service_account_file(
            str(key_file), scopes=["https://www.googleapis.com/auth/firebase.messaging"]
        )
        credentials.refresh(Request())
        sent = requests.post(
            f"{urls['FCM_BASE_URL']}/v1/projects/dev-project/messages:send",
            json={"message": {"token": "device", "notification": {"title": "t", "body": "b"}}},
            headers={"Authorization": f"Bearer {credentials.token}"},
            timeout=5,
        )
        assert sent.status_code == 200 and sent.json()["name"].startswith("projects/dev-project/messages/")
    finally:
        assert interrupt(process) == 0


def test_whatsapp_with_its_options() -> None:
    process, urls = run(
        "whatsapp",
        "--whatsapp-token",
        "cli-token",
        "--phone-number-id",
        "777",
        "--status-webhook-url",
        "http://127.0.0.1:9/hook",
    )
    try:
        sent = requests.post(
            f"{urls['WHATSAPP_BASE_URL']}/777/messages",
            json={
                "messaging_product": "whatsapp",
                "to": "966501234567",
                "type": "template",
                "template": {"name": "t"},
            },
            headers={"Authorization": "Bearer cli-token"},
            timeout=5,
        )
        assert sent.json()["messages"][0]["id"].startswith("wamid.")
        config = requests.get(f"{control_url(urls['WHATSAPP_BASE_URL'])}/config", timeout=5).json()
        assert config["webhook_url"] == "http://127.0.0.1:9/hook"
    finally:
        assert interrupt(process) == 0


def test_jwks_prints_every_setting_and_mints_tokens() -> None:
    process, urls = run("jwks")
    try:
        keys = requests.get(urls["APPLE_JWKS_URL"], timeout=5).json()["keys"]
        minted = requests.post(
            f"{control_url(urls['APPLE_JWKS_URL'])}/tokens", json={"provider": "apple"}, timeout=5
        ).json()["id_token"]
        assert jwt.get_unverified_header(minted)["kid"] == keys[0]["kid"]
    finally:
        assert interrupt(process) == 0
