"""Who may act on what needs a verified phone: booking, paying, joining a waitlist.

The one rule (`user_has_verified_phone`) and the one refusal (403 `phone_required`), as a DRF permission
for views (`permission_classes = [IsAuthenticated, PhoneRequired]`, or `PhoneRequiredToWrite` where
reads stay open) and as `phone_required_check` for code that is not a view."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from backend.accounts.models import User


class PhoneRequiredError(exceptions.PermissionDenied):
    default_detail = _("Verify your phone number first: booking and paying need one.")
    default_code = "phone_required"


def user_has_verified_phone(*, user: User) -> bool:
    """A phone reaches an account only through a verified code (or an admin), so having one is having
    a verified one; accounts made by Sign in with Apple or Google start without."""
    return bool(user.phone_number)


def phone_required_check(*, user: User) -> None:
    """Raises 403 phone_required unless the user has a verified phone."""
    if not user_has_verified_phone(user=user):
        raise PhoneRequiredError()


class PhoneRequired(BasePermission):
    """Refuses authenticated callers without a verified phone with 403 phone_required. List it after
    IsAuthenticated, which answers anonymous callers 401 first."""

    def has_permission(self, request: Any, view: Any) -> bool:
        phone_required_check(user=request.user)
        return True


class PhoneRequiredToWrite(PhoneRequired):
    """PhoneRequired for unsafe methods only (a list anyone signed in may read, a create that books)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)
