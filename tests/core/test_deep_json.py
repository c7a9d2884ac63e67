"""Found by the security audit (issue 16): JSON nested about 1,000 levels deep (2.2 KB) answered 500 with a
logged traceback on every JSON endpoint, because Python's json module recurses once per level. The
parser refuses it as a 400 validation_error before parsing (backend/core/parsers.py)."""

import json
import logging
import time

import pytest

from backend.core.parsers import json_depth_exceeds
from tests.core.test_errors import assert_error_shape
from tests.support.factories import client_for

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 1000 + "]" * 1000  # the audit's body: 2 KB
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def nested(depth: int) -> str:
    return '{"phone": ' + "[" * (depth - 1) + '"0501234567"' + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("raw", [DEEP_ARRAY, DEEP_OBJECT, "[" * 1000], ids=["array", "object", "unclosed"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/otp/request/", "/api/v1/auth/otp/verify/", "/api/v1/payments/webhook/"],
)
def test_deep_json_is_a_400_on_anonymous_endpoints(api_client, path, raw, caplog):
    with caplog.at_level(logging.ERROR):
        response = api_client.generic("POST", path, raw, content_type="application/json")
    error = assert_error_shape(response, 400, "validation_error")
    assert "32" in error["fields"]["non_field_errors"][0]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_deep_json_is_a_400_for_signed_in_users(manager, salon):
    api_client = client_for(manager)
    for method, path in [
        ("POST", "/api/v1/bookings/"),
        ("PATCH", "/api/v1/me/"),
        ("PATCH", f"/api/v1/manage/salons/{salon.pk}/settings/"),
    ]:
        response = api_client.generic(method, path, DEEP_OBJECT, content_type="application/json")
        assert_error_shape(response, 400, "validation_error")


def test_the_error_is_in_arabic_too(api_client):
    response = api_client.generic(
        "POST",
        "/api/v1/auth/otp/request/",
        DEEP_ARRAY,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    message = assert_error_shape(response, 400, "validation_error")["fields"]["non_field_errors"][0]
    assert message == "يتداخل محتوى JSON في الطلب لأكثر من 32 مستوى."


def test_nesting_up_to_the_limit_is_parsed(api_client, settings):
    settings.API_JSON_MAX_DEPTH = 5
    request = "/api/v1/auth/otp/request/"
    english = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}
    at_limit = api_client.generic("POST", request, nested(5), **english)
    assert at_limit.json()["error"]["fields"] == {"phone": ["Not a valid string."]}
    over = api_client.generic("POST", request, nested(6), **english)
    assert "5 levels" in over.json()["error"]["fields"]["non_field_errors"][0]


@pytest.mark.parametrize(
    ("text", "deeper_than_3"),
    [
        ("[[[]]]", False),
        ("[[[[]]]]", True),
        ('{"a": {"b": {"c": {}}}}', True),
        ("[[[]]], [[[]]], [[[]]]", False),  # many brackets, none deep
        ('["[[[[[[", "{{{{{{"]', False),  # brackets inside strings are text
        (r'["\"[[[[[[", "\\", []]', False),  # escaped quotes and backslashes end no string early
        (r'["\\"] [[[[', True),  # ...and an escaped backslash does end it
        ("[" * 4, True),  # never closed: the json module would recurse into it all the same
        ("[]" * 10, False),
    ],
)
def test_depth_scan(text, deeper_than_3):
    assert json_depth_exceeds(text, 3) is deeper_than_3


def test_the_scan_of_a_big_body_costs_less_than_parsing_it():
    big = "[" + ",".join(['[[1, 2], {"a": [3]}]'] * 100_000) + "]"  # 2.1 MB, 400,001 brackets
    # CPU time of this process, not the wall clock: a loaded machine that parks the test between the two
    # measurements cannot flip the comparison.
    started = time.process_time()
    assert not json_depth_exceeds(big, 32)
    scanned = time.process_time()
    json.loads(big)
    parsed = time.process_time()
    assert scanned - started < parsed - scanned  # measured: 0.28 s vs 0.83 s
