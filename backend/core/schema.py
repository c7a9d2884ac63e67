"""OpenAPI post-processing: what holds for the whole schema, written once instead of per view. These are
drf-spectacular POSTPROCESSING_HOOKS (config/settings.py); per-operation rules are in `openapi.py`."""

from typing import Any

_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

FIELD_ERRORS = "FieldErrors"
FIELD_ERRORS_REF = {"$ref": f"#/components/schemas/{FIELD_ERRORS}"}
_FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "validation_error only: each field's messages. A field that is an object or a list holds "
    'the same map for its own fields or items (by index, "0", "1", ...), e.g. '
    '`{"source": {"mobile": ["..."]}}`, `{"overrides": {"1": {"service": ["..."]}}}`.',
    "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, FIELD_ERRORS_REF]},
}


def add_field_errors_component(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The `fields` map of the error body refers to itself (nested input, nested errors), which a
    serializer cannot say: the component is written here."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[FIELD_ERRORS] = _FIELD_ERRORS_SCHEMA
    if "ErrorDetail" in schemas:
        schemas["ErrorDetail"]["additionalProperties"] = True  # a code may carry its own extras
    return result


def document_empty_query_values(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An optional query parameter sent empty (`?status=`) counts as not sent: DRF serializers, django-filter
    and the paginator all read it so. Say it in the schema (`allowEmptyValue`), so clients and schema-driven
    tests know an empty value is accepted rather than refused."""
    for operations in result.get("paths", {}).values():
        for method in _METHODS:
            for parameter in operations.get(method, {}).get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def name_the_requested_server(result: dict[str, Any], request: Any = None, **kwargs: Any) -> dict[str, Any]:
    """`servers`: API_PUBLIC_URL when set (SPECTACULAR_SETTINGS["SERVERS"]), else the scheme and host the
    schema was asked on, so a client generated from a deployment's schema points at that deployment."""
    if not result.get("servers") and request is not None:
        result["servers"] = [{"url": request.build_absolute_uri("/").rstrip("/")}]
    return result
