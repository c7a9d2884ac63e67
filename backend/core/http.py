"""The one way to call an external provider over HTTP.

- One pooled `requests.Session` per provider, reused across requests and threads.
- Explicit (connect, read) timeouts on every call: PROVIDER_CONNECT_TIMEOUT_SECONDS and the caller's read
  timeout.
- One log line per attempt: provider, operation, HTTP status, latency and outcome. Never URLs, headers or
  bodies, which hold keys, codes and messages.
- Failures raise `ProviderError`. Timeouts, connection errors, 5xx and 429 are retryable (by whoever may
  safely retry: a Celery task, a user); other 4xx and bodies that report failure are permanent.
- A failure answer's `Retry-After` (seconds or an HTTP date) becomes `ProviderError.retry_after`, the
  seconds the provider asks us to wait; whoever retries honours it.
- The only retry made here is one quick retry when the connection could not be opened at all: the
  request never reached the provider, so it cannot be sent twice. Nothing is retried after the request
  went out (a read timeout may already have delivered an SMS).
"""

import email.utils
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_fixed
from urllib3.exceptions import NewConnectionError

logger = logging.getLogger(__name__)

# Threads of the notifications worker share one pool per provider (NOTIFICATIONS_CONCURRENCY, 20).
POOL_SIZE = 32
CONNECT_RETRY_PAUSE_SECONDS = 0.05


class ProviderError(Exception):
    """A provider call that failed. `retryable`: the same call may succeed later. `code`: ours
    (`timeout`, `connect_error`, `connection_error`, `http_<status>`) or the provider's own error code."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.retryable = retryable
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"ProviderError({self.provider!r}, {self.message!r}, retryable={self.retryable}, "
            f"status={self.status}, code={self.code!r}, retry_after={self.retry_after})"
        )


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    body: Any  # parsed JSON, or None when the answer was not JSON


@functools.cache
def provider_session(provider: str) -> requests.Session:
    """The provider's pooled session (module-level, one per provider for the life of the process)."""
    session = requests.Session()
    # requests would re-read the proxy variables and ~/.netrc from the environment on every call (a
    # measurable share of a delivery's CPU); `_environment_proxies` reads them once per host instead.
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@functools.cache
def _environment_proxies(scheme: str, host: str) -> dict[str, str]:
    """HTTP(S)_PROXY / NO_PROXY as they apply to this host, read once per process (they do not change
    while it runs)."""
    return requests.utils.get_environ_proxies(f"{scheme}://{host}/")


def _never_sent(error: requests.RequestException) -> bool:
    """True when the connection could not be opened, so the provider cannot have seen the request."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _transport_error(provider: str, error: requests.RequestException) -> ProviderError:
    if _never_sent(error):
        return ProviderError(provider, "could not connect", retryable=True, status=None, code="connect_error")
    if isinstance(error, requests.Timeout):
        return ProviderError(provider, "no answer in time", retryable=True, status=None, code="timeout")
    if isinstance(error, requests.exceptions.SSLError):
        return ProviderError(provider, "TLS failure", retryable=False, status=None, code="tls_error")
    if isinstance(error, requests.ConnectionError):
        return ProviderError(
            provider, "connection lost", retryable=True, status=None, code="connection_error"
        )
    return ProviderError(provider, type(error).__name__, retryable=False, status=None, code="request_error")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3); None
    when absent or unreadable. A date in the past is 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _attempt(
    *,
    provider: str,
    operation: str,
    method: str,
    url: str,
    read_timeout: float,
    succeeded: Callable[[Any], bool],
    error_code: Callable[[Any], str | None],
    request_options: dict[str, Any],
) -> ProviderResponse:
    started = time.monotonic()
    status: int | None = None
    outcome = "ok"
    try:
        try:
            parts = urlsplit(url)
            response = provider_session(provider).request(
                method,
                url,
                timeout=(settings.PROVIDER_CONNECT_TIMEOUT_SECONDS, read_timeout),
                proxies=_environment_proxies(parts.scheme, parts.netloc),
                **request_options,
            )
        except requests.RequestException as error:
            failure = _transport_error(provider, error)
            outcome = failure.code or "error"
            raise failure from error
        status = response.status_code
        body = _json(response)
        if not response.ok:
            outcome = "http_error"
            retryable = status >= 500 or status == 429
            raise ProviderError(
                provider,
                f"answered HTTP {status}",
                retryable=retryable,
                status=status,
                code=error_code(body) or f"http_{status}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if not succeeded(body):
            outcome = "refused"
            raise ProviderError(
                provider, "reported a failure", retryable=False, status=status, code=error_code(body)
            )
        return ProviderResponse(status=status, body=body)
    finally:
        latency_ms = round((time.monotonic() - started) * 1000)
        logger.log(
            logging.INFO if outcome == "ok" else logging.WARNING,
            "provider=%s operation=%s status=%s latency_ms=%d outcome=%s",
            provider,
            operation,
            status if status is not None else "-",
            latency_ms,
            outcome,
        )


def _is_connect_error(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.code == "connect_error"


def provider_call(
    *,
    provider: str,
    operation: str,
    method: str,
    url: str,
    read_timeout: float,
    succeeded: Callable[[Any], bool] = lambda body: True,
    error_code: Callable[[Any], str | None] = lambda body: None,
    **request_options: Any,
) -> ProviderResponse:
    """Calls the provider; `succeeded(body)` tells whether a 2xx body reports success, `error_code(body)`
    picks the provider's error code out of a failure body. `request_options` go to `requests` (json,
    data, headers). Raises ProviderError.

    A connection that could not be opened is retried once, and only if that failure came fast (within the
    connect timeout): the whole call then stays within one connect timeout plus one read timeout."""
    retrying = Retrying(
        retry=retry_if_exception(_is_connect_error),
        stop=stop_after_attempt(2) | stop_after_delay(settings.PROVIDER_CONNECT_TIMEOUT_SECONDS),
        wait=wait_fixed(CONNECT_RETRY_PAUSE_SECONDS),
        reraise=True,
    )
    return retrying(
        _attempt,
        provider=provider,
        operation=operation,
        method=method,
        url=url,
        read_timeout=read_timeout,
        succeeded=succeeded,
        error_code=error_code,
        request_options=request_options,
    )
