"""`python -m backend.fakes`: the fakes run in the foreground and stop cleanly on Ctrl-C."""

import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start the command; return it with the base URLs it printed, by variable name."""
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.fakes", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    expected = 4 if args[0] == "all" else 1
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


def test_all_runs_the_four_fakes_on_consecutive_ports() -> None:
    first = free_ports(4)
    process, urls = run("all", "--port", str(first), "--api-key", "cli-key")
    try:
        assert urls == {
            "AUTHENTICA_BASE_URL": f"http://127.0.0.1:{first}/api/v2",
            "UNIFONIC_BASE_URL": f"http://127.0.0.1:{first + 1}",
            "MOYASAR_BASE_URL": f"http://127.0.0.1:{first + 2}/v1",
            "ZATCA_BASE_URL": f"http://127.0.0.1:{first + 3}/e-invoicing/simulation",
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
