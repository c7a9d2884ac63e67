from typing import Any

from rest_framework import pagination, serializers
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """The contract's list shape: {"count", "next", "previous", "results"}.

    `page_size` must be a whole number from 1 (a 400 otherwise, where DRF would quietly answer 20 rows);
    more than `max_page_size` gives `max_page_size`; empty is the default. A `page` that is not a page is
    DRF's 404."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        requested = request.query_params.get(self.page_size_query_param, "")
        if requested == "":  # absent, or empty as an unused form field sends it: the default
            return self.page_size
        field = serializers.IntegerField(min_value=1)  # DRF's own messages, already translated
        try:
            size = field.run_validation(requested)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({self.page_size_query_param: error.detail}) from None
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, 1 or more (default {self.page_size}; more than {self.max_page_size} "
                    f"gives {self.max_page_size})."
                )
        return parameters
