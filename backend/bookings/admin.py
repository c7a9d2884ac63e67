from django.contrib import admin

from backend.bookings.models import Booking


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-mostly: bookings change through the booking services, which keep the rules (next issue)."""

    list_display = ("id", "salon", "staff", "service", "start", "status", "payment_status", "price_halalas")
    list_filter = ("status", "payment_status")
    search_fields = ("id", "customer__phone_number", "salon__name", "staff__name")
    list_select_related = ("salon", "staff", "service")
    date_hierarchy = "start"
    raw_id_fields = ("salon", "service", "staff", "customer")
    readonly_fields = ("occupied_until", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False  # only the booking services create bookings: they check availability
