"""Who may reach a salon's views, and how the salon is found: the catalog's (anyone, public salons) or its
managers' (404 to anyone else). Shared by every app's views under /salons/<id>/ and
/manage/salons/<id>/."""

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.salons import selectors
from backend.salons.models import Salon


def schema_only(view: APIView) -> bool:
    """True while drf-spectacular inspects a list view: there is no request, so no salon."""
    return getattr(view, "swagger_fake_view", False)


class SalonScopedMixin:
    """Resolves `salon_id` into `self.salon` once the caller is authenticated, and renders datetimes in
    the salon's time zone for the rest of the request."""

    salon: Salon
    # How the salon is found, and for whom: PublicSalonMixin (the catalog) or ManagedSalonMixin (its
    # managers) says. Declared only: a view that says neither has no lookup to fall back on.
    salon_get: Callable[[Request, int], Salon]

    # False: the view resolves the salon itself, with what it reads anyway (availability reads it with
    # the service, one query), and calls `use_salon`.
    resolves_salon_first = True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):  # type: ignore[attr-defined]
            return  # DRF answers 405 next: a method no salon supports is not a 404 of this one
        if self.resolves_salon_first:
            self.use_salon(self.salon_get(request, kwargs["salon_id"]))

    def use_salon(self, salon: Salon) -> None:
        self.salon = salon
        timezone.activate(salon.tz)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        timezone.deactivate()
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class PublicSalonMixin(SalonScopedMixin):
    permission_classes = [AllowAny]

    def salon_get(self, request: Request, salon_id: int) -> Salon:
        return selectors.salon_get_public(salon_id=salon_id)


class ManagedSalonMixin(SalonScopedMixin):
    def salon_get(self, request: Request, salon_id: int) -> Salon:
        return selectors.salon_get_managed(user=request.user, salon_id=salon_id)
