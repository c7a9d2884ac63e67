"""Shared machinery, exercised through real HTTP: fault injection, journal and the control API."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from backend.fakes import FakeAuthentica, FakeMoyasar, FakeProvider, FakeUnifonic
from tests.support.waiting import wait_until

HOUR_MS = 3_600_000  # a delay no test waits out: a call that answers despite it was not delayed
SMS = {"AppSid": "test-unifonic-appsid", "SenderID": "Salon", "Recipient": "966501234567", "Body": "hi"}


@pytest.fixture
def fake() -> Iterator[FakeUnifonic]:
    # Unifonic stands in for all three: the machinery lives in the shared base class.
    with FakeUnifonic(hang_seconds=5) as server:
        yield server


def send(fake: FakeUnifonic, **kwargs) -> requests.Response:
    return requests.post(
        f"{fake.url}/rest/SMS/messages", data=SMS, timeout=kwargs.pop("timeout", 5), **kwargs
    )


def control(fake: FakeProvider, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{fake.root_url}/_control/{path}", timeout=5, **kwargs)


def test_urls_carry_each_providers_prefix() -> None:
    with FakeAuthentica() as authentica, FakeUnifonic() as unifonic, FakeMoyasar() as moyasar:
        assert authentica.url == f"http://127.0.0.1:{authentica.port}/api/v2"
        assert unifonic.url == f"http://127.0.0.1:{unifonic.port}"
        assert moyasar.url == f"http://127.0.0.1:{moyasar.port}/v1"
        assert len({authentica.port, unifonic.port, moyasar.port}) == 3


def test_url_needs_a_started_server() -> None:
    with pytest.raises(RuntimeError):
        _ = FakeUnifonic().url


def test_latency_delays_provider_answers(fake: FakeUnifonic) -> None:
    fake.latency_ms = 300
    started = time.monotonic()
    assert send(fake).status_code == 200
    assert time.monotonic() - started >= 0.29  # a lower bound only: load makes the answer later, not earlier


def test_latency_never_delays_control_calls(fake: FakeUnifonic) -> None:
    # A provider call parked in an hour's latency: a control call answered meanwhile was not delayed by it.
    fake.latency_ms = HOUR_MS
    with ThreadPoolExecutor(1) as pool:
        parked = pool.submit(send, fake, timeout=60)
        try:
            wait_until(fake.journal)  # the provider call arrived and sleeps its latency
            assert control(fake, "GET", "config").json()["latency_ms"] == HOUR_MS
            assert [entry["status"] for entry in fake.journal()] == [None]  # still unanswered
        finally:
            fake.stop()  # wakes the parked handler, which then answers
    assert parked.result().status_code == 200


def test_fail_next_fails_n_calls_with_the_providers_error_body_then_recovers(fake: FakeUnifonic) -> None:
    fake.fail_next(2, status=503)
    for _ in range(2):
        failed = send(fake)
        assert failed.status_code == 503
        assert failed.json() == {
            "success": False,
            "message": "Service Unavailable",
            "errorCode": "ER-503",
            "data": {},
        }
    assert send(fake).status_code == 200
    assert len(fake.messages()) == 1  # failed calls have no effect
    assert [(e["fault"], e["status"]) for e in fake.journal()] == [("fail", 503), ("fail", 503), (None, 200)]


def test_fail_next_with_a_custom_body(fake: FakeUnifonic) -> None:
    fake.fail_next(1, status=429, body={"success": False, "message": "Throttled", "errorCode": "ER-429"})
    throttled = send(fake)
    assert throttled.status_code == 429
    assert throttled.json()["message"] == "Throttled"


@pytest.mark.parametrize(
    ("fake_class", "expected"),
    [
        (FakeAuthentica, {"success": False, "message": "Internal Server Error"}),
        (FakeMoyasar, {"type": "api_error", "message": "Internal Server Error", "errors": None}),
    ],
)
def test_injected_failures_use_each_providers_error_shape(
    fake_class: type[FakeProvider], expected: dict
) -> None:
    with fake_class() as server:
        server.fail_next(1, status=500)
        answer = requests.post(f"{server.url}/anything", json={}, timeout=5)
        assert (answer.status_code, answer.json()) == (500, expected)


def test_timeout_next_unprocessed_hangs_and_has_no_effect(fake: FakeUnifonic) -> None:
    fake.timeout_next(1)
    with pytest.raises(requests.ReadTimeout):
        send(fake, timeout=0.3)
    assert fake.messages() == []
    assert send(fake).status_code == 200
    assert [e["fault"] for e in fake.journal()] == ["timeout", None]


def test_timeout_next_processed_takes_effect_but_the_answer_is_late(fake: FakeUnifonic) -> None:
    fake.timeout_next(1, processed=True)
    with pytest.raises(requests.ReadTimeout):
        send(fake, timeout=0.3)
    assert len(fake.messages()) == 1  # the lost-answer case idempotent retries must survive


def test_stop_wakes_a_hanging_call_instead_of_waiting_for_it() -> None:
    server = FakeUnifonic(hang_seconds=3600).start()
    server.timeout_next(1)
    with ThreadPoolExecutor(1) as pool:
        hanging = pool.submit(send, server, timeout=60)
        try:
            wait_until(server.journal)  # the call arrived and hangs for an hour
        finally:
            server.stop()  # returns at all only because it does not wait out the hour
    # The woken handler closes the connection unanswered, as a stalled provider's would.
    with pytest.raises(requests.ConnectionError):
        hanging.result()
    assert [entry["fault"] for entry in server.journal()] == ["timeout"]


def test_down_drops_provider_connections_while_control_still_answers(fake: FakeUnifonic) -> None:
    fake.down = True
    with pytest.raises(requests.ConnectionError):
        send(fake)
    assert control(fake, "GET", "config").json()["down"] is True
    fake.down = False
    assert send(fake).status_code == 200
    assert [(e["fault"], e["status"]) for e in fake.journal()] == [("down", None), (None, 200)]


def test_faults_are_driven_over_http_too(fake: FakeUnifonic) -> None:
    changed = control(fake, "POST", "config", json={"fail_next": 1, "fail_status": 500})
    assert changed.status_code == 200
    assert changed.json()["fail_next"] == 1
    assert changed.json()["latency_ms"] == 0  # partial update: the rest is untouched

    assert control(fake, "GET", "requests").status_code == 200  # control calls never consume faults
    assert send(fake).status_code == 500
    assert send(fake).status_code == 200

    control(fake, "POST", "config", json={"timeout_next": 1, "hang_seconds": 5})
    with pytest.raises(requests.ReadTimeout):
        send(fake, timeout=0.3)
    control(fake, "POST", "config", json={"down": True})
    with pytest.raises(requests.ConnectionError):
        send(fake)


@pytest.mark.parametrize(
    "change",
    [{"latency": 5}, {"fail_next": -1}, {"fail_next": True}, {"down": "yes"}, {"fail_status": 42}],
)
def test_control_config_refuses_unknown_keys_and_bad_values(fake: FakeUnifonic, change: dict) -> None:
    refused = control(fake, "POST", "config", json=change)
    assert refused.status_code == 400
    assert "error" in refused.json()


def test_control_config_refuses_a_body_that_is_not_an_object(fake: FakeUnifonic) -> None:
    assert control(fake, "POST", "config", data="[1]").status_code == 400
    assert control(fake, "POST", "config", data="{not json").status_code == 400


def test_journal_over_http_records_each_provider_call(fake: FakeUnifonic) -> None:
    send(fake, headers={"Accept": "application/json", "X-Noise": "dropped"})
    [entry] = control(fake, "GET", "requests").json()
    assert entry["method"] == "POST"
    assert entry["path"] == "/rest/SMS/messages"
    assert entry["body"] == SMS
    assert entry["headers"]["accept"] == "application/json"
    assert entry["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert "x-noise" not in entry["headers"]
    assert entry["status"] == 200
    assert entry["fault"] is None
    assert entry["timestamp"].endswith("Z")


def test_reset_forgets_journal_messages_and_faults(fake: FakeUnifonic) -> None:
    send(fake)
    fake.configure(fail_next=3, latency_ms=50, down=True)
    assert control(fake, "POST", "reset").json() == {"reset": True}
    assert fake.journal() == []
    assert fake.messages() == []
    assert fake.config() == {
        "latency_ms": 0,
        "fail_next": 0,
        "fail_status": 503,
        "fail_body": None,
        "timeout_next": 0,
        "timeout_processed": False,
        "hang_seconds": 5,  # the constructor's value
        "down": False,
    }


def test_unknown_routes_answer_the_providers_404_and_405(fake: FakeUnifonic) -> None:
    missing = requests.post(f"{fake.url}/rest/nothing", data=SMS, timeout=5)
    assert (missing.status_code, missing.json()["message"]) == (404, "Not Found")
    wrong_method = requests.get(f"{fake.url}/rest/SMS/messages", params=SMS, timeout=5)
    assert (wrong_method.status_code, wrong_method.json()["message"]) == (405, "Method Not Allowed")
    assert control(fake, "GET", "nothing").status_code == 404


def test_a_fake_serves_concurrent_calls(fake: FakeUnifonic) -> None:
    # Each call sleeps an hour's latency: all eight arriving proves they are handled side by side.
    fake.latency_ms = HOUR_MS
    with ThreadPoolExecutor(8) as pool:
        calls = [pool.submit(send, fake, timeout=60) for _ in range(8)]
        try:
            wait_until(lambda: len(fake.journal()) == 8, message=lambda: len(fake.journal()))
            assert {entry["status"] for entry in fake.journal()} == {None}  # all in flight at once
        finally:
            fake.stop()  # wakes them all
    assert [call.result().status_code for call in calls] == [200] * 8


def test_a_client_gone_mid_answer_prints_no_traceback(capsys):
    from backend.fakes.base import _Server

    with FakeUnifonic() as fake:
        server = fake._server
        for error in (ConnectionResetError(104, "reset by peer"), BrokenPipeError(32, "broken pipe")):
            try:
                raise error
            except OSError:
                server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a bug in the fake")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "a bug in the fake" in capsys.readouterr().err
        assert isinstance(server, _Server)
