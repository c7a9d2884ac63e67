from rest_framework.permissions import BasePermission


class IsPlatformAdmin(BasePermission):
    """Platform administrators (`is_superuser`): they run the platform, not one salon."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)
