"""backend/core/http.py: timeouts, failure classification, the one safe retry, and what gets logged."""

import logging
import time

import pytest
import requests
import responses
from urllib3.exceptions import NewConnectionError, ProtocolError

from backend.core.http import ProviderError, provider_call, provider_session

URL = "https://provider.test/api/send"
SECRET = "sk_secret_key_that_must_never_be_logged"


def call(**options):
    return provider_call(
        provider="acme",
        operation="send",
        method="POST",
        url=URL,
        read_timeout=2.5,
        json={"otp": "123456", "message": "private body"},
        headers={"X-Authorization": SECRET},
        **options,
    )


def refused_connection() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Connection refused")
    return requests.ConnectionError(requests.packages.urllib3.exceptions.MaxRetryError(None, URL, reason))


@responses.activate
def test_success_returns_status_and_json_and_logs_one_line(caplog, settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 1.5
    responses.post(URL, json={"success": True}, status=201)
    with caplog.at_level(logging.INFO, logger="backend.core.http"):
        result = call(succeeded=lambda body: body["success"] is True)
    assert (result.status, result.body) == (201, {"success": True})
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith("provider=acme operation=send status=201 latency_ms=") and line.endswith(
        "outcome=ok"
    )
    assert responses.calls[0].request.req_kwargs["timeout"] == (1.5, 2.5)


@responses.activate
def test_a_non_json_answer_has_no_body():
    responses.post(URL, body="OK", status=200)
    assert call().body is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (503, True), (429, True), (400, False), (401, False), (482, False)],
)
@responses.activate
def test_http_errors(status, retryable, caplog):
    responses.post(URL, json={"errorCode": "ER-09"}, status=status)
    with caplog.at_level(logging.INFO, logger="backend.core.http"), pytest.raises(ProviderError) as raised:
        call(error_code=lambda body: body["errorCode"])
    error = raised.value
    assert (error.provider, error.status, error.retryable, error.code) == ("acme", status, retryable, "ER-09")
    assert len(responses.calls) == 1
    assert f"status={status}" in caplog.text and "outcome=http_error" in caplog.text


@responses.activate
def test_http_error_without_a_provider_code():
    responses.post(URL, body="<html>Bad gateway</html>", status=502)
    with pytest.raises(ProviderError) as raised:
        call()
    assert raised.value.code == "http_502"
    assert "acme" in str(raised.value) and "retryable=True" in repr(raised.value)


@responses.activate
def test_a_2xx_that_reports_failure_is_permanent(caplog):
    responses.post(URL, json={"success": False, "errorCode": "ER-04"})
    with caplog.at_level(logging.INFO, logger="backend.core.http"), pytest.raises(ProviderError) as raised:
        call(succeeded=lambda body: body["success"] is True, error_code=lambda body: body["errorCode"])
    assert (raised.value.retryable, raised.value.status, raised.value.code) == (False, 200, "ER-04")
    assert "outcome=refused" in caplog.text


@responses.activate
def test_a_read_timeout_is_retryable_but_never_retried_here():
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    responses.post(URL, json={})
    with pytest.raises(ProviderError) as raised:
        call()
    assert (raised.value.code, raised.value.retryable, raised.value.status) == ("timeout", True, None)
    assert len(responses.calls) == 1  # the provider may have sent it already


@responses.activate
def test_a_connection_lost_after_sending_is_not_retried():
    responses.post(
        URL, body=requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
    )
    responses.post(URL, json={})
    with pytest.raises(ProviderError) as raised:
        call()
    assert (raised.value.code, raised.value.retryable) == ("connection_error", True)
    assert len(responses.calls) == 1


@pytest.mark.parametrize("failure", [requests.ConnectTimeout("connect timed out"), refused_connection()])
@responses.activate
def test_a_connection_never_opened_is_retried_once(failure, caplog):
    responses.post(URL, body=failure)
    responses.post(URL, json={"ok": 1})
    with caplog.at_level(logging.INFO, logger="backend.core.http"):
        assert call().body == {"ok": 1}
    assert len(responses.calls) == 2
    assert "outcome=connect_error" in caplog.records[0].getMessage()
    assert "outcome=ok" in caplog.records[1].getMessage()


@responses.activate
def test_only_one_retry():
    for _ in range(3):
        responses.post(URL, body=refused_connection())
    with pytest.raises(ProviderError) as raised:
        call()
    assert (raised.value.code, raised.value.retryable) == ("connect_error", True)
    assert len(responses.calls) == 2


@responses.activate
def test_no_retry_when_the_failed_connect_used_up_the_connect_timeout(settings):
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 0.05

    def slow_failure(request):
        time.sleep(0.06)
        raise requests.ConnectTimeout("connect timed out")

    responses.add_callback(responses.POST, URL, callback=slow_failure)
    with pytest.raises(ProviderError):
        call()
    assert len(responses.calls) == 1


@responses.activate
def test_tls_failure_is_permanent():
    responses.post(URL, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(ProviderError) as raised:
        call()
    assert (raised.value.code, raised.value.retryable) == ("tls_error", False)


def test_a_malformed_url_is_a_permanent_provider_error():
    with pytest.raises(ProviderError) as raised:
        provider_call(provider="acme", operation="send", method="POST", url="not a url", read_timeout=1)
    assert (raised.value.code, raised.value.retryable) == ("request_error", False)


@responses.activate
def test_logs_never_hold_keys_codes_or_bodies(caplog):
    responses.post(URL, json={"success": True, "echo": SECRET})
    responses.post(URL, json={"message": "private body"}, status=500)
    with caplog.at_level(logging.DEBUG):
        call()
        with pytest.raises(ProviderError):
            call()
    for secret in (SECRET, "123456", "private body", URL):
        assert secret not in caplog.text


def test_one_pooled_session_per_provider():
    assert provider_session("acme") is provider_session("acme")
    assert provider_session("acme") is not provider_session("other")
    assert provider_session("acme").get_adapter("https://x.test")._pool_maxsize >= 20


@responses.activate
def test_proxies_come_from_the_environment_once_per_host_and_honour_no_proxy(monkeypatch):
    from backend.core import http

    monkeypatch.setenv("HTTPS_PROXY", "http://egress.internal:3128")
    monkeypatch.setenv("NO_PROXY", "bypass.test")
    http._environment_proxies.cache_clear()
    try:
        responses.post(URL, json={"ok": True})
        call()
        assert responses.calls[0].request.req_kwargs["proxies"]["https"] == "http://egress.internal:3128"
        assert http._environment_proxies("https", "bypass.test") == {}
        monkeypatch.setenv("HTTPS_PROXY", "http://changed.internal:3128")
        assert http._environment_proxies("https", "provider.test")["https"] == "http://egress.internal:3128"
        assert provider_session("acme").trust_env is False, "requests must not re-read the environment"
    finally:
        http._environment_proxies.cache_clear()


@responses.activate
def test_a_failures_retry_after_header_becomes_its_retry_after_hint():
    responses.post(URL, json={}, status=429, headers={"Retry-After": "17"})
    with pytest.raises(ProviderError) as raised:
        call()
    assert (raised.value.retryable, raised.value.retry_after) == (True, 17.0)
    assert "retry_after=17.0" in repr(raised.value)


@responses.activate
def test_a_failure_without_retry_after_has_no_hint():
    responses.post(URL, json={}, status=503)
    with pytest.raises(ProviderError) as raised:
        call()
    assert raised.value.retry_after is None


def test_retry_after_reads_seconds_and_http_dates():
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from backend.core.http import retry_after_seconds

    assert retry_after_seconds(None) is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds(" 120 ") == 120.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 <= retry_after_seconds(later) <= 90
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 -0000") == 0.0
