import json
import logging
import logging.config

import pytest
from django.conf import settings

from backend.core.request_id import RequestIdLogFilter, bind_request_id, unbind_request_id

pytestmark = pytest.mark.django_db


def test_every_answer_carries_a_request_id_and_a_sane_one_from_the_caller_is_kept(api_client):
    made = api_client.get("/health/")["X-Request-ID"]
    assert len(made) == 32
    assert api_client.get("/health/", HTTP_X_REQUEST_ID="lb-abc.123")["X-Request-ID"] == "lb-abc.123"
    replaced = api_client.get("/no-such-page/", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert replaced != "bad id\nwith newline" and len(replaced) == 32


def test_json_log_lines_carry_the_request_id():
    formatter = logging.config.dictConfigClass(settings.LOGGING).configure_formatter(
        settings.LOGGING["formatters"]["json"]
    )
    record = logging.LogRecord(
        "backend.bookings", logging.INFO, __file__, 1, "booking %s created", (7,), None
    )
    token = bind_request_id("req-9")
    try:
        RequestIdLogFilter().filter(record)
    finally:
        unbind_request_id(token)
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-9" and line["message"] == "booking 7 created"
    assert line["client_ip"] == "-"
    assert {"time", "level", "logger"} <= set(line)


def test_outside_a_request_the_id_is_a_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    RequestIdLogFilter().filter(record)
    assert record.request_id == "-"


@pytest.mark.urls("tests.core.error_views")
def test_log_lines_of_a_request_carry_its_client_address(api_client, settings):
    settings.API_NUM_PROXIES = None
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.client_ip)

    handler = Keep()
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger("backend.core.exceptions")
    logger.addHandler(handler)
    try:
        api_client.get("/t/redis-down/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.1.1.1")
    finally:
        logger.removeHandler(handler)
    assert seen == ["203.0.113.7"]
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    RequestIdLogFilter().filter(record)
    assert record.client_ip == "-"
