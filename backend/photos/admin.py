from django.contrib import admin

from backend.photos.models import Photo


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    """Read-only: uploads are checked and re-encoded by the API (backend/photos/services.py)."""

    list_display = ("id", "salon", "kind", "staff", "width", "height", "created_at")
    list_filter = ("kind",)
    list_select_related = ("salon", "staff")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting goes through the API, which removes the files too
