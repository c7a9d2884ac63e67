"""The Django admin's password login is guarded by django-axes (settings: AXES_*, docs/adr/0008)."""

from django.http import HttpRequest


def axes_client_ip(request: HttpRequest) -> str:
    """The address axes counts failed admin logins under (AXES_CLIENT_IP_CALLABLE). The socket's address,
    never X-Forwarded-For, which any client can write. To be pointed at the project's client-address
    function (backend/core/client_ip.py, which trusts the header only from configured proxies) once that
    exists: behind a proxy every admin login then counts under the proxy's address."""
    return request.META.get("REMOTE_ADDR", "")
