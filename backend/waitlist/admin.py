from django.contrib import admin

from backend.waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only: entries and offers change through the waitlist services, which hold the slots."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OfferInline(admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    can_delete = False
    fields = ("start", "staff", "expires_at", "outcome", "booking")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "salon", "service", "staff", "date", "from_time", "to_time", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "customer__phone_number", "salon__name")
    list_select_related = ("salon", "service", "staff")
    date_hierarchy = "date"
    raw_id_fields = ("customer", "salon", "service", "staff")
    inlines = [OfferInline]


@admin.register(FreedTime)
class FreedTimeAdmin(ReadOnlyAdmin):
    """Freed time not yet read by the matcher: rows piling up mean the workers are not matching."""

    list_display = ("id", "salon", "first_day", "last_day", "reason", "created_at")
    raw_id_fields = ("salon",)
