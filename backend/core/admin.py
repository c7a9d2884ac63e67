from django.contrib import admin

from backend.core.models import IdempotencyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the code writes and people only read (ops may delete)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RecordAdmin(ReadOnlyAdmin):
    """For records that are evidence (money, invoices, provider events): nobody deletes them here either."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "scope", "user", "response_status", "locked_until", "created_at")
    list_filter = ("scope", "response_status")
    search_fields = ("key", "user__phone_number")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
