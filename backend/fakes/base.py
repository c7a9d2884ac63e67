"""Shared machinery of the fake provider servers: HTTP plumbing, routing, journal and fault injection.

A fake is a real HTTP server on loopback so that our real provider clients (``requests``) are exercised
end to end: connection handling, timeouts, status codes and bodies. Everything a test or a separate
process needs to steer a fake is reachable both from Python and over HTTP under ``/_control/``.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
import traceback
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

CONTROL_PREFIX = "/_control"
# Headers worth asserting on in tests (auth, content negotiation); the rest is noise in the journal.
JOURNAL_HEADERS = ("accept", "authorization", "content-type", "user-agent", "x-authorization")


def utc_now_iso() -> str:
    """Timestamps as the providers write them: ISO 8601, UTC, milliseconds, ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON or form fields; the raw text when unparseable; None when empty
    malformed: bool = False  # the body claimed to be JSON (or looked like it) but did not parse
    params: dict[str, str] = field(default_factory=dict)  # named groups of the matched route


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list: JSON; str: sent as is with content_type; None: empty
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


RouteHandler = Callable[[Request], Response]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: RouteHandler
    control: bool


@dataclass(frozen=True)
class _Plan:
    """What fault injection decided for one provider call, taken atomically from the settings."""

    fault: str | None  # None, "down", "timeout" or "fail"
    latency: float
    hang: float
    timeout_processed: bool = False
    fail_status: int = 503
    fail_body: Any = None


class ControlError(Exception):
    """A control call the fake refuses; answered as ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ControlError("must be a non-negative integer")
    return value


def _duration(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ControlError("must be a non-negative number")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ControlError("must be true or false")
    return value


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 999:
        raise ControlError("must be an HTTP status code")
    return value


def _anything(value: Any) -> Any:
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for handlers parked by timeout_next

    def __init__(self, address: tuple[str, int], provider: FakeProvider) -> None:
        self.provider = provider
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer (a killed worker, a timed-out call) is expected of a test
        # double's clients: no traceback for that. Any other error of the fake is still printed.
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs; every answer has a Content-Length
    # Headers and body leave in two writes: with Nagle's algorithm on, the body waits for the client's
    # delayed ACK (~40 ms on Linux) on every kept-alive call, a stall no real provider adds.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self.server.provider._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.provider.verbose:
            super().log_message(format, *args)


class FakeProvider(ABC):
    """One fake provider: an HTTP server plus the state tests inspect.

    Subclasses set ``name`` and ``prefix``, register routes in ``__init__``, and implement
    ``error_body`` (the provider's own error shape) and, where the provider has one, ``check_auth``.
    """

    name: ClassVar[str]
    prefix: ClassVar[str]  # path prefix of the provider's API, part of ``url``

    # Fault settings: validators, and the values reset() goes back to.
    _FAULT_SETTINGS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "latency_ms": _duration,
        "fail_next": _count,
        "fail_status": _status,
        "fail_body": _anything,
        "timeout_next": _count,
        "timeout_processed": _flag,
        "hang_seconds": _duration,
        "down": _flag,
    }

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0,
        hang_seconds: float = 30.0,
        journal_limit: int = 10_000,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self._lock = threading.RLock()
        self._stopping = threading.Event()  # wakes every sleeping handler on stop()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[_Route] = []
        self._journal: deque[dict[str, Any]] = deque(maxlen=journal_limit)
        self._validators: dict[str, Callable[[Any], Any]] = dict(self._FAULT_SETTINGS)
        self._settings: dict[str, Any] = {}
        self._fault_defaults: dict[str, Any] = {
            "latency_ms": _duration(latency_ms),
            "fail_next": 0,
            "fail_status": 503,
            "fail_body": None,
            "timeout_next": 0,
            "timeout_processed": False,
            "hang_seconds": _duration(hang_seconds),
            "down": False,
        }
        self._settings.update(self._fault_defaults)
        self.add_control_route("GET", "/config", lambda request: Response(200, self.config()))
        self.add_control_route("POST", "/config", self._control_configure)
        self.add_control_route("POST", "/reset", self._control_reset)
        self.add_control_route("GET", "/requests", lambda request: Response(200, self.journal()))

    # -- what subclasses provide ------------------------------------------------------------------

    @abstractmethod
    def error_body(self, status: int, message: str) -> Any:
        """The provider's error body for ``status``; used for injected failures, 404, 405, bad JSON."""

    def check_auth(self, request: Request) -> Response | None:
        """The provider's refusal when ``request`` is not authenticated, else None."""
        return None

    @abstractmethod
    def _reset_state(self) -> None:
        """Forget provider data (payments, messages...); called by reset() under the lock."""

    def add_route(self, method: str, pattern: str, handler: RouteHandler) -> None:
        """A provider route; ``pattern`` is a regex (named groups become params) after ``prefix``."""
        self._routes.append(_Route(method, re.compile(re.escape(self.prefix) + pattern), handler, False))

    def add_control_route(self, method: str, pattern: str, handler: RouteHandler) -> None:
        """A control route under ``/_control``: never journaled, delayed nor failed."""
        self._routes.append(_Route(method, re.compile(re.escape(CONTROL_PREFIX) + pattern), handler, True))

    def add_setting(self, key: str, validator: Callable[[Any], Any], value: Any) -> None:
        """A provider-specific setting, changeable by configure(); reset() leaves it alone."""
        self._validators[key] = validator
        self._settings[key] = validator(value)

    def setting(self, key: str) -> Any:
        with self._lock:
            return self._settings[key]

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{self.name} fake already started")
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() answers within 10 ms; idle cost is negligible
            name=f"fake-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://host:port``: where the control API lives."""
        if self._server is None:
            raise RuntimeError(f"{self.name} fake is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The provider's base URL, i.e. what its ``*_BASE_URL`` setting holds."""
        return self.root_url + self.prefix

    # -- control, from Python (the HTTP control API calls exactly these) -------------------------

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Partial update of the settings (see config()); unknown keys and bad values are refused."""
        unknown = sorted(set(changes) - set(self._validators))
        if unknown:
            raise ControlError(f"unknown setting(s): {', '.join(unknown)}")
        validated = {}
        for key, value in changes.items():
            try:
                validated[key] = self._validators[key](value)
            except ControlError as error:
                raise ControlError(f"{key} {error}") from None
        with self._lock:
            self._settings.update(validated)
            return self.config()

    def config(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._settings)

    def fail_next(self, n: int, status: int = 503, body: Any = None) -> None:
        """The next ``n`` provider calls answer ``status`` with ``body`` (default: the provider's error)."""
        self.configure(fail_next=n, fail_status=status, fail_body=body)

    def timeout_next(self, n: int, *, processed: bool = False) -> None:
        """The next ``n`` provider calls hang for ``hang_seconds``.

        ``processed=False``: the call has no effect and the connection is closed after the hang (the
        provider stalled). ``processed=True``: the call takes effect at once and its answer comes after
        the hang (the answer was lost on the way), which is what idempotent retries must survive.
        """
        self.configure(timeout_next=n, timeout_processed=processed)

    @property
    def latency_ms(self) -> float:
        return self.setting("latency_ms")

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self.configure(latency_ms=value)

    @property
    def down(self) -> bool:
        return self.setting("down")

    @down.setter
    def down(self, value: bool) -> None:
        self.configure(down=value)

    def reset(self) -> None:
        """Forget the journal and provider data; faults go back to the constructor's values."""
        with self._lock:
            self._journal.clear()
            self._settings.update(self._fault_defaults)
            self._reset_state()

    def journal(self) -> list[dict[str, Any]]:
        """Provider calls received, oldest first: method, path, query, headers, body, timestamp,
        fault (None/"down"/"timeout"/"fail") and status (None when no answer was sent)."""
        with self._lock:
            return copy.deepcopy(list(self._journal))

    def _control_configure(self, request: Request) -> Response:
        return Response(200, self.configure(**control_object(request)))

    def _control_reset(self, request: Request) -> Response:
        self.reset()
        return Response(200, {"reset": True})

    # -- request handling -----------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        """Sleep that stop() interrupts, so a stopping server never waits on a parked handler."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _handle(self, handler: _RequestHandler) -> None:
        request = _read_request(handler)
        route, wrong_method = self._match(request)
        is_control = route.control if route else request.path.startswith(CONTROL_PREFIX + "/")
        if is_control:
            self._write(handler, self._answer_control(route, request))
            return

        entry = self._journal_add(request)
        plan = self._take_plan(entry)
        if plan.fault == "down":
            handler.close_connection = True  # the client sees the connection closed, no answer
            return
        self._sleep(plan.latency)
        if plan.fault == "timeout" and not plan.timeout_processed:
            self._sleep(plan.hang)
            handler.close_connection = True
            return

        if plan.fault == "fail":
            body = plan.fail_body
            if body is None:
                body = self.error_body(plan.fail_status, _reason(plan.fail_status))
            response = Response(plan.fail_status, body)
        else:
            response = self._answer_provider(route, wrong_method, request)
        if plan.fault == "timeout":
            self._sleep(plan.hang)
        with self._lock:
            entry["status"] = response.status
        self._write(handler, response)

    def _match(self, request: Request) -> tuple[_Route | None, bool]:
        """The route for ``request`` (its params filled in), and whether only the method was wrong."""
        path = request.path.rstrip("/") or "/"
        wrong_method = False
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method == request.method:
                request.params = found.groupdict()
                return route, False
            wrong_method = True
        return None, wrong_method

    def _answer_provider(self, route: _Route | None, wrong_method: bool, request: Request) -> Response:
        refusal = self.check_auth(request)
        if refusal is not None:
            return refusal
        if route is None:
            status = 405 if wrong_method else 404
            return Response(status, self.error_body(status, _reason(status)))
        if request.malformed:
            return Response(400, self.error_body(400, "Malformed JSON body"))
        try:
            return route.handler(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)  # a fake's bug must be visible, not a silent 500
            return Response(500, self.error_body(500, _reason(500)))

    def _answer_control(self, route: _Route | None, request: Request) -> Response:
        if route is None:
            return Response(404, {"error": f"no control route {request.method} {request.path}"})
        try:
            return route.handler(request)
        except ControlError as error:
            return Response(error.status, {"error": str(error)})

    def _journal_add(self, request: Request) -> dict[str, Any]:
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": {name: request.headers[name] for name in JOURNAL_HEADERS if name in request.headers},
            "body": copy.deepcopy(request.body),  # handlers may keep parts of the body
            "timestamp": utc_now_iso(),
            "fault": None,
            "status": None,
        }
        with self._lock:
            self._journal.append(entry)
        return entry

    def _take_plan(self, entry: dict[str, Any]) -> _Plan:
        """Consume at most one fault (down, then timeout_next, then fail_next) and journal it."""
        with self._lock:
            plan = self._plan()
            entry["fault"] = plan.fault
            return plan

    def _plan(self) -> _Plan:
        settings = self._settings
        timing = {"latency": settings["latency_ms"] / 1000, "hang": settings["hang_seconds"]}
        if settings["down"]:
            return _Plan("down", **timing)
        if settings["timeout_next"] > 0:
            settings["timeout_next"] -= 1
            return _Plan("timeout", timeout_processed=settings["timeout_processed"], **timing)
        if settings["fail_next"] > 0:
            settings["fail_next"] -= 1
            fail_body = copy.deepcopy(settings["fail_body"])
            return _Plan("fail", fail_status=settings["fail_status"], fail_body=fail_body, **timing)
        return _Plan(None, **timing)

    def _write(self, handler: _RequestHandler, response: Response) -> None:
        body = response.body
        if body is None:
            data = b""
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body, ensure_ascii=False).encode()
        try:
            handler.send_response(response.status)
            if data:
                content_type = response.content_type
                handler.send_header("Content-Type", f"{content_type}; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in response.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            # The client gave up (e.g. its read timeout fired during a hang): nothing left to tell it.
            handler.close_connection = True


class OutboxFake(FakeProvider):
    """A provider that sends messages: every accepted one is kept for ``GET /_control/messages``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        super().__init__(host, port, **options)
        self._messages: list[dict[str, Any]] = []
        self.add_control_route("GET", "/messages", lambda request: Response(200, self.messages()))

    def record_message(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._messages.append(message)

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._messages)

    def _reset_state(self) -> None:
        self._messages.clear()


def control_object(request: Request) -> dict[str, Any]:
    """The JSON object body of a control call; an empty body counts as ``{}``."""
    if request.body is None:
        return {}
    if request.malformed or not isinstance(request.body, dict):
        raise ControlError("the body must be a JSON object")
    return request.body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _read_request(handler: _RequestHandler) -> Request:
    url = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length > 0 else b""
    headers = {name.lower(): value for name, value in handler.headers.items()}
    body, malformed = _parse_body(raw, headers.get("content-type", ""))
    return Request(
        method=handler.command,
        path=url.path,
        query=dict(parse_qsl(url.query, keep_blank_values=True)),
        headers=headers,
        body=body,
        malformed=malformed,
    )


def _parse_body(raw: bytes, content_type: str) -> tuple[Any, bool]:
    if not raw:
        return None, False
    text = raw.decode("utf-8", errors="replace")
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True)), False
    # JSON is also tried without the header: clients that forget it should still be journaled usefully.
    claims_json = "json" in content_type or text.lstrip()[:1] in ("{", "[")
    try:
        return json.loads(text), False
    except ValueError:
        return text, claims_json
