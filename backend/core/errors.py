"""The one application error type. Services raise it; the API exception handler turns it into the
contract's body: {"error": {"code", "message", ...extra}}."""

from typing import Any

from django.utils.functional import Promise


class ApplicationError(Exception):
    def __init__(
        self,
        code: str,
        message: str | Promise,
        *,
        status: int = 400,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ApplicationError({self.code!r}, status={self.status})"
