"""What the schema says of every operation, derived from the views themselves so that a new endpoint is
described the same way without a line of its own (DEFAULT_SCHEMA_CLASS, config/settings.py):

- 429 on every throttled operation, with the `Retry-After` header and `retry_after` in the error body;
- the `Idempotency-Key` header where the view honours it (it calls `idempotent_response`);
- a summary on every operation (an explicit `summary=` wins);
- a description from the view's own docstring, never one inherited from a base view.

The schema view (English unless asked otherwise) is `backend.core.views.SchemaView`."""

import inspect
from types import CodeType
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter
from rest_framework.views import APIView

from backend.core import idempotency
from backend.core.serializers import ErrorSerializer

THROTTLED = (
    "`throttled`: too many requests from this client; wait `retry_after` seconds (also the `Retry-After` "
    "header) before trying again."
)
RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 1},
    "description": "Seconds to wait before trying again; sent with `throttled` and `otp_throttled`.",
}
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    description=(
        "Optional, 1 to 255 printable characters, unique per attempt (a UUID). A retry with the same key "
        "within IDEMPOTENCY_TTL_HOURS answers the first answer again and creates nothing new; the same key "
        "with another body is a 409 `idempotency_key_reused`, while the first attempt still runs a 409 "
        "`request_in_progress`."
    ),
)
IDEMPOTENT_REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=True,
    description="`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
# Summaries of the operations whose views name none (`extend_schema(summary=...)` wins), kept here so the
# views stay as they are; an operation in neither place gets one made from its id (`humanize_operation_id`).
SUMMARIES = {
    "admin_reviews_hide": "Hide a review (platform admin)",
    "admin_reviews_unhide": "Show a hidden review again (platform admin)",
    "admin_salons_create": "Create a salon (platform admin)",
    "bookings_list": "List my bookings",
    "bookings_create": "Book a service",
    "bookings_retrieve": "Get a booking",
    "bookings_cancel": "Cancel a booking",
    "bookings_complete": "Mark a booking completed",
    "bookings_no_show": "Mark a booking no-show",
    "bookings_reschedule": "Move a booking to another time or staff member",
    "bookings_review_create": "Review a completed booking",
    "bookings_review_update": "Change my review",
    "payments_create": "Pay for a booking",
    "payments_retrieve": "Get a payment",
    "payments_webhook": "Moyasar webhook",
    "manage_payments_capture": "Capture an authorized payment",
    "manage_payments_refund": "Refund a payment",
    "manage_payments_void": "Void a payment",
    "manage_salons_list": "List the salons I manage",
    "manage_bookings_list": "List a salon's bookings",
    "manage_business_hours": "Get a salon's business hours",
    "manage_business_hours_replace": "Replace a salon's business hours",
    "manage_closures_list": "List a salon's closures",
    "manage_closures_create": "Close a salon for one or more days",
    "manage_closures_delete": "Delete a closure",
    "manage_photos_create": "Upload a salon photo",
    "manage_photos_delete": "Delete a salon photo",
    "manage_reviews_reply": "Reply to a review",
    "manage_services_list": "List a salon's services",
    "manage_services_create": "Add a service",
    "manage_services_retrieve": "Get a service",
    "manage_services_update": "Change a service",
    "manage_services_delete": "Remove a service",
    "manage_salon_settings": "Get a salon's settings",
    "manage_salon_settings_update": "Change a salon's settings",
    "manage_staff_list": "List a salon's staff",
    "manage_staff_create": "Add a staff member",
    "manage_staff_retrieve": "Get a staff member",
    "manage_staff_update": "Change a staff member",
    "manage_staff_delete": "Remove a staff member",
    "manage_staff_avatar_set": "Set a staff member's avatar",
    "manage_staff_avatar_delete": "Delete a staff member's avatar",
    "manage_staff_cancel_upcoming": "Cancel a staff member's upcoming bookings",
    "manage_time_off_list": "List a staff member's time off",
    "manage_time_off_create": "Add time off",
    "manage_time_off_delete": "Delete time off",
    "manage_working_hours": "Get a staff member's working hours",
    "manage_working_hours_replace": "Replace a staff member's working hours",
    "me_notifications_list": "List my notifications",
    "ops_notifications_retrieve": "Notification delivery figures (ops)",
    "salons_list": "Find salons",
    "salons_retrieve": "Get a salon",
    "salons_availability": "Free slots of a service",
    "salons_reviews_list": "List a salon's reviews",
    "salons_services_list": "List a salon's services",
    "salons_staff_list": "List a salon's staff",
    "health": "Health of the API and its dependencies",
}
# Verbs that end our operation ids (`bookings_create`, `manage_staff_cancel_upcoming`), for summaries.
_VERBS = {
    "list": "List",
    "retrieve": "Get",
    "read": "Get",
    "create": "Create",
    "update": "Update",
    "replace": "Replace",
    "delete": "Delete",
    "set": "Set",
}


def _names(code: CodeType) -> set[str]:
    """The global names a function refers to, its nested functions included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            names |= _names(constant)
    return names


def humanize_operation_id(operation_id: str) -> str:
    """`bookings_list` -> "List bookings"; `admin_reviews_hide` -> "Admin reviews: hide"."""
    *subject, last = operation_id.split("_")
    if not subject:
        return last.capitalize()
    if last in _VERBS:
        return f"{_VERBS[last]} {' '.join(subject)}"
    return f"{' '.join(subject).capitalize()}: {last}"


class AutoSchema(openapi.AutoSchema):
    def _view_method(self) -> Any:
        return getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)

    def honours_idempotency_key(self) -> bool:
        """True when the view's method calls `idempotent_response`: read from its code, so the schema
        cannot forget an endpoint that takes the header, nor claim one that does not."""
        code = getattr(inspect.unwrap(self._view_method()), "__code__", None)
        return code is not None and idempotency.idempotent_response.__name__ in _names(code)

    def is_throttled(self) -> bool:
        """DRF's throttles run on every view that does not opt out with `throttle_classes = []`: a view
        with the API's defaults (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES, always on in production; the
        test settings switch them off, the contract stays) or with its own throttles."""
        classes = self.view.throttle_classes
        return classes is APIView.throttle_classes or bool(classes)

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self.honours_idempotency_key():
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENT_REPLAYED_HEADER]
        return parameters

    def get_summary(self) -> str:
        operation_id = self.get_operation_id()
        return SUMMARIES.get(operation_id) or humanize_operation_id(operation_id)

    def get_description(self) -> str:
        own = self.view.__class__.__dict__.get("__doc__")
        return openapi.get_doc(self._view_method()) or (inspect.cleandoc(own) if own else "")

    def _get_response_bodies(self, direction: openapi.Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if self.is_throttled() and direction == "response":
            declared = responses.get("429")
            description = f"{declared['description']} Or {THROTTLED}" if declared else THROTTLED
            responses["429"] = {
                "description": description,
                "headers": {"Retry-After": RETRY_AFTER_HEADER},
                "content": {
                    "application/json": {"schema": self.resolve_serializer(ErrorSerializer, direction).ref}
                },
            }
        return responses
