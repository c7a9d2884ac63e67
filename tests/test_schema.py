from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


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
