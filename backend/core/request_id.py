"""A request id that follows work from the API into its Celery tasks and onto every log line.

The API takes the caller's `X-Request-ID` (a load balancer's or the app's) when it is a sane token, or makes
one, and answers with it. Tasks enqueued while handling the request carry it in a message header; the worker
restores it while the task runs, so one id finds a booking's request, its notification delivery and retries
in the logs. Log lines written while handling a request also carry its client address, as every limit
reads it (`backend/core/client_ip.py`: X-Forwarded-For only behind configured proxies)."""

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backend.core.client_ip import client_ip

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_client_ip: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="-")


def current_request_id() -> str | None:
    return _current.get()


def bind_request_id(value: str | None) -> contextvars.Token:
    return _current.set(value)


def unbind_request_id(token: contextvars.Token) -> None:
    _current.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _VALID.match(offered) else uuid.uuid4().hex
        token = bind_request_id(request_id)
        ip_token = _client_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            _client_ip.reset(ip_token)
            unbind_request_id(token)
        response[HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Puts the current request id and client address on every record (`-` outside a request; a task has
    its request's id, not its address)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        record.client_ip = _client_ip.get()
        return True
