"""Reading the API's answers the way the contract shapes them: {"error": {"code", "message", "fields"?}}."""

from __future__ import annotations

from typing import Any


def error_code(response: Any) -> str:
    """The contract's error code of an error answer (a DRF test response or a requests.Response)."""
    return response.json()["error"]["code"]
