"""Every error the API returns has the contract's shape, whatever raised it:

    {"error": {"code": "validation_error", "message": "<localized>", "fields": {...}}}

`api_exception_handler` covers DRF views; the `json_*` views cover what Django answers outside them
(unknown URLs, bad Host headers, CSRF failures, crashes in non-DRF views)."""

import logging
from typing import Any

import redis
from django import db
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from backend.core.errors import ApplicationError

logger = logging.getLogger(__name__)

# Failures of the stores the API depends on: a retryable 503, not a crash.
DEPENDENCY_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, db.OperationalError)

# DRF's default codes, renamed where the contract names them differently.
_CODE_RENAMES = {
    "invalid": "validation_error",
    "token_not_valid": "token_invalid",
}


def error_body(code: str, message: Any, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), **extra}}


def _stringify(detail: Any) -> Any:
    """DRF error details (ErrorDetail, lazy strings, nested lists/dicts) as plain JSON values."""
    if isinstance(detail, dict):
        return {str(key): _stringify(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        return [_stringify(item) for item in detail]
    return str(detail)


def _plain_message(exc: exceptions.APIException) -> str:
    """The human message of a non-validation error. Some libraries (simplejwt) nest it in a dict."""
    if isinstance(exc.detail, str):
        return exc.detail
    if isinstance(exc.detail, dict) and isinstance(exc.detail.get("detail"), str):
        return exc.detail["detail"]
    return str(type(exc).default_detail)


def _from_api_exception(exc: exceptions.APIException) -> Response:
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    code = _CODE_RENAMES.get(exc.default_code, exc.default_code)
    if isinstance(exc, exceptions.ValidationError):
        message = _("Some of the data sent is not valid.")
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        extra["fields"] = _stringify(fields)
    else:
        message = _plain_message(exc)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        retry_after = max(1, round(exc.wait))
        headers["Retry-After"] = str(retry_after)
        extra["retry_after"] = retry_after
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    return Response(error_body(code, message, **extra), status=exc.status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER. Unknown exceptions are logged and answered with a generic 500 body."""
    set_rollback()
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, **exc.extra), status=exc.status, headers=exc.headers
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", _("The request body is too large.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", _("The request could not be understood.")), status=400)
    if isinstance(exc, exceptions.APIException):
        return _from_api_exception(exc)
    if isinstance(exc, DEPENDENCY_ERRORS):
        # PostgreSQL or Redis unreachable: the client may retry; ops see the logged cause.
        logger.error("A dependency is unavailable: %r", exc)
        return Response(
            error_body("service_unavailable", _("The service is briefly unavailable. Please try again.")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view", exc_info=exc)
    return Response(error_body("server_error", _("Something went wrong on our side. Please try again.")), 500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", _("The request could not be understood.")), status=400)


def json_permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body("permission_denied", _("You do not have permission to perform this action.")), status=403
    )


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", _("Something went wrong on our side. Please try again.")), status=500
    )


def json_csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return JsonResponse(
        error_body("csrf_failed", _("The request was refused (CSRF check failed).")), status=403
    )
