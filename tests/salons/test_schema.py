"""The OpenAPI schema describes every salon endpoint with its parameters and error responses."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema, prefix: str):
    for path, item in schema["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("prefix", ["/api/v1/salons/", "/api/v1/manage/salons/", "/api/v1/admin/salons/"])
def test_every_operation_documents_its_errors(schema, prefix):
    found = dict(operations(schema, prefix))
    assert found
    for name, operation in found.items():
        statuses = set(operation["responses"])
        assert statuses & {"400", "401", "404"}, name
        for status in statuses - {"200", "201", "204"}:
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, name


def test_availability_parameters_and_response(schema):
    operation = schema["paths"]["/api/v1/salons/{salon_id}/availability/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"salon_id", "service", "date", "days", "staff"} <= set(parameters)
    assert parameters["service"]["required"] and parameters["date"]["required"]
    assert not parameters["staff"].get("required", False)
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Availability"
    )
    assert "staff_not_qualified" in operation["responses"]["400"]["description"]


def test_list_filters_are_documented(schema):
    def names(path):
        return {parameter["name"] for parameter in schema["paths"][path]["get"]["parameters"]}

    assert {"search", "city", "page"} <= names("/api/v1/salons/")
    assert {"service", "page"} <= names("/api/v1/salons/{salon_id}/staff/")
    assert {"date", "staff", "status"} <= names("/api/v1/manage/salons/{salon_id}/bookings/")
