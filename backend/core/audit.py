"""Who changed what, when and from where: django-auditlog records changes to the tracked models
(AUDITLOG_INCLUDE_TRACKING_MODELS in settings) with the acting user and address, shown read-only in the
Django admin.

auditlog's middleware learns the actor from the session (the Django admin). The API authenticates with JWT
inside DRF, after middleware has run, so the authentication class names the actor here once it knows it.
The address is the one every limit uses (`backend/core/client_ip.py`), not auditlog's own reading."""

import auditlog.middleware
from auditlog.context import auditlog_value
from django.conf import settings
from django.http import HttpRequest

from backend.core.client_ip import client_address, proxies_configured


def audit_actor_bind(*, user) -> None:
    try:
        context = auditlog_value.get()
    except LookupError:  # outside a request: a task, a command
        return
    context["actor"] = user


class AuditlogMiddleware(auditlog.middleware.AuditlogMiddleware):
    """auditlog's middleware with the address from `backend/core/client_ip.py`: auditlog's own takes the
    leftmost X-Forwarded-For entry, which any client writes."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        address = client_address(request)
        return str(address) if address is not None else None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        """The client's port: X-Forwarded-Port only behind configured proxies, else the socket's."""
        offered = request.headers.get("X-Forwarded-Port", "") if proxies_configured() else ""
        offered = offered or request.META.get("REMOTE_PORT", "")
        valid = len(offered) <= 5 and offered.isascii() and offered.isdigit() and int(offered) <= 65535
        return int(offered) if valid else None
