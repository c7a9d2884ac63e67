"""The error responses the salon views document (drf-spectacular)."""

from drf_spectacular.utils import OpenApiResponse

from backend.core.serializers import error_responses

PUBLIC_ERRORS = error_responses(404)
MANAGE_ERRORS = error_responses(401, 404)
MANAGE_INPUT_ERRORS = error_responses(400, 401, 404)
# Paginated lists: 400 for a bad `page_size`, 404 for a page past the last.
PUBLIC_LIST_ERRORS = error_responses(400, 404)
MANAGE_LIST_ERRORS = error_responses(400, 401, 404)
NO_CONTENT = {204: OpenApiResponse(description="Deleted."), **MANAGE_ERRORS}
