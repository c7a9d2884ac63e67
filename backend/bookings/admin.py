from django.contrib import admin, messages
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from backend.bookings.models import Booking, BookingItem
from backend.bookings.services import booking_cancel
from backend.core.errors import ApplicationError


class BookingItemInline(admin.TabularInline):
    """The visit's items, read-only: they change with the booking, through the booking services."""

    model = BookingItem
    fields = ("position", "service", "staff", "start", "end", "occupied_until", "price_halalas", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-mostly: bookings change through the booking services, which keep the rules (next issue)."""

    list_display = ("id", "salon", "staff", "service", "start", "status", "payment_status", "price_halalas")
    list_filter = ("status", "payment_status")
    # Any item's staff member: a visit is found by each of its staff, not only its first item's.
    search_fields = ("id", "customer__phone_number", "salon__name", "items__staff__name")
    list_select_related = ("salon", "staff", "service")
    date_hierarchy = "start"
    raw_id_fields = ("salon", "service", "staff", "customer")
    readonly_fields = ("occupied_until", "created_at", "updated_at")
    actions = ["cancel_by_salon"]
    inlines = [BookingItemInline]

    def has_add_permission(self, request) -> bool:
        return False  # only the booking services create bookings: they check availability

    @admin.action(
        description=_("Cancel the selected bookings (salon-initiated, full refund per policy)"),
        permissions=["change"],
    )
    def cancel_by_salon(self, request, queryset):
        # The API's service, with the admin as actor: the same rules, refunds and messages.
        for booking_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                booking = booking_cancel(
                    booking_id=booking_id, actor=request.user, reason="cancelled by the platform admin"
                )
            except (ApplicationError, Http404) as error:
                # Http404: an admin user who is neither a platform admin nor of the booking's salon
                # (booking_access_for_cancel).
                reason = error.message if isinstance(error, ApplicationError) else _("not yours to cancel")
                self.message_user(
                    request,
                    _("Booking %(id)s was not cancelled: %(reason)s") % {"id": booking_id, "reason": reason},
                    level=messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _("Booking %(id)s cancelled; %(refund)s halalas to refund.")
                    % {"id": booking_id, "refund": booking.refund_halalas},
                    level=messages.SUCCESS,
                )
