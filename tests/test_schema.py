import re
from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from backend.core.openapi import SUMMARIES, humanize_operation_id
from backend.core.schema import name_the_requested_server


@pytest.mark.django_db
def test_the_openapi_schema_generates_without_warnings(tmp_path: Path):
    """Every endpoint is described: drf-spectacular fails on any warning or error it meets."""
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").stat().st_size > 10_000


@pytest.mark.django_db
def test_every_optional_query_parameter_may_be_sent_empty_as_the_api_reads_it():
    """`?status=` counts as no `status` (DRF, django-filter, the paginator): the schema says so."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = [
        parameter
        for operations in schema["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]
    assert parameters
    assert all(
        parameter.get("allowEmptyValue", False) != parameter.get("required", False)
        for parameter in parameters
    )


@pytest.mark.django_db
def test_validation_messages_may_nest_as_the_input_does():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    field_errors = {"$ref": "#/components/schemas/FieldErrors"}
    assert components["ErrorDetail"]["properties"]["fields"] == field_errors
    assert components["FieldErrors"]["additionalProperties"]["oneOf"][1] == field_errors


# --- What a client generator reads (issue 17) ---------------------------------------------------------------
ARABIC = re.compile(r"[\u0600-\u06FF]")
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Views that opt out of DRF's throttles (`throttle_classes = []`): load balancers and Moyasar call them.
UNTHROTTLED = {
    "health",
    "payments_webhook",
    "notifications_webhooks_whatsapp_verify",
    "notifications_webhooks_whatsapp_receive",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def all_operations(schema) -> dict[str, dict]:
    return {
        operation["operationId"]: operation
        for operations in schema["paths"].values()
        for operation in operations.values()
    }


def test_every_throttled_operation_declares_429_with_the_wait(schema):
    operations = all_operations(schema)
    assert set(operations) > UNTHROTTLED
    for operation_id, operation in operations.items():
        throttled = operation["responses"].get("429")
        if operation_id in UNTHROTTLED:
            assert throttled is None, operation_id
            continue
        assert throttled is not None, operation_id
        assert "`throttled`" in throttled["description"]
        assert throttled["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
        assert throttled["content"]["application/json"]["schema"] == ERROR_REF
    # The OTP endpoints keep their own codes beside the general one.
    otp = operations["auth_otp_request"]["responses"]["429"]["description"]
    assert "`otp_throttled`" in otp and "`throttled`" in otp
    assert schema["components"]["schemas"]["ErrorDetail"]["properties"]["retry_after"]["type"] == "integer"


def test_idempotency_key_is_declared_exactly_where_it_is_honoured(schema):
    """Read from the views' code (they call idempotent_response), not from a list."""
    declaring = {
        operation_id: parameter
        for operation_id, operation in all_operations(schema).items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    }
    assert set(declaring) == {"bookings_create", "payments_create"}
    for operation_id, parameter in declaring.items():
        assert parameter["schema"] == {"type": "string"} and not parameter.get("required")
        created = all_operations(schema)[operation_id]["responses"]["201"]
        assert created["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}


def test_one_error_schema_and_every_error_answer_uses_it(schema):
    components = schema["components"]["schemas"]
    assert {name for name in components if "rror" in name} == {"Error", "ErrorDetail", "FieldErrors"}
    assert components["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    detail = components["ErrorDetail"]
    assert detail["required"] == ["code", "message"] and detail["additionalProperties"] is True
    assert {"code", "message", "fields", "retry_after", "attempts_left"} <= set(detail["properties"])
    for operation_id, operation in all_operations(schema).items():
        for status, response in operation["responses"].items():
            if int(status) >= 400 and (operation_id, status) != ("health", "503"):  # the health report
                assert response["content"]["application/json"]["schema"] == ERROR_REF, (operation_id, status)


def test_every_operation_has_a_summary(schema):
    summaries = {operation_id: op.get("summary") for operation_id, op in all_operations(schema).items()}
    assert all(summaries.values()), [operation_id for operation_id, text in summaries.items() if not text]
    assert summaries["bookings_create"] == "Book a service"
    assert summaries["auth_otp_request"] == "Send a login code"  # the view's own summary wins
    assert set(SUMMARIES) <= set(summaries), "a summary for an operation that is gone"


@pytest.mark.parametrize(
    ("operation_id", "summary"),
    [
        ("staff_invitations_list", "List staff invitations"),
        ("bookings_hold_extend", "Bookings hold: extend"),
        ("ping", "Ping"),
    ],
)
def test_a_new_operation_gets_a_summary_from_its_id(operation_id, summary):
    assert humanize_operation_id(operation_id) == summary


def test_descriptions_come_from_the_view_itself_never_from_a_base_view(schema):
    """The management views share a base whose docstring is about its code, not the operation."""
    for operation in all_operations(schema).values():
        assert "self.salon" not in operation.get("description", "")


def test_license_and_servers(client, settings):
    served = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert served["info"]["license"] == {"name": "MIT", "url": "https://opensource.org/license/mit"}
    assert served["servers"] == [{"url": "http://testserver"}]  # unset API_PUBLIC_URL: the host asked
    configured = {"servers": [{"url": "https://api.example.com"}]}
    assert name_the_requested_server(configured, request=object()) == configured
    assert "servers" not in name_the_requested_server({}, request=None)


def _served(client, **extra) -> tuple[str, str]:
    response = client.get("/api/schema/", **extra)
    assert response.status_code == 200
    return response.content.decode(), response["Content-Language"]


@pytest.mark.django_db
def test_the_schema_is_english_unless_the_client_asks_for_arabic(client, settings):
    assert settings.LANGUAGE_CODE == "ar"  # the API's default for messages stays as configured
    text, language = _served(client)
    assert language == "en" and not ARABIC.search(text)
    for extra in ({"HTTP_ACCEPT_LANGUAGE": "fr, de;q=0.5"}, {"QUERY_STRING": "lang=xx"}):
        assert _served(client, **extra)[1] == "en"
    for extra in (
        {"HTTP_ACCEPT_LANGUAGE": "ar-SA,ar;q=0.9"},
        {"HTTP_ACCEPT_LANGUAGE": "fr, ar;q=0.5"},
        {"QUERY_STRING": "lang=ar"},
    ):
        text, language = _served(client, **extra)
        assert language == "ar" and ARABIC.search(text), extra
    # An error answer without Accept-Language is still in the configured language.
    assert ARABIC.search(client.get("/api/v1/me/").json()["error"]["message"])
