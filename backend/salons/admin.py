from django.contrib import admin

from backend.salons.models import (
    BusinessHours,
    Closure,
    Salon,
    Service,
    SpecialHours,
    StaffMember,
    StaffService,
    TimeOff,
    WorkingHours,
)


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0
    fields = ("date", "end_date", "reason", "cancellation")
    readonly_fields = ("cancellation",)


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    """Closures over their dates, and where the background cancellation of their bookings is. Asking for a
    cancellation is the management API's (`cancel_bookings`): here the state is only shown."""

    list_display = ("salon", "date", "end_date", "reason", "cancellation", "cancel_finished_at")
    list_filter = (("cancel_requested_at", admin.EmptyFieldListFilter), "date")
    search_fields = ("salon__name", "reason")
    list_select_related = ("salon",)
    raw_id_fields = ("salon",)
    readonly_fields = ("cancellation", "cancel_requested_at", "cancel_progress_at", "cancel_finished_at")

    @admin.display(description="cancellation")
    def cancellation(self, closure: Closure) -> str:
        return closure.cancellation or "-"


@admin.register(Salon)
class SalonAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ar", "city", "timezone", "prepayment_required", "rating", "review_count")
    list_filter = ("city", "timezone", "prepayment_required")
    search_fields = ("name", "name_ar", "city")
    filter_horizontal = ("managers",)
    readonly_fields = ("rating", "review_count", "created_at", "updated_at")
    inlines = (BusinessHoursInline, ClosureInline)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "name_ar",
        "salon",
        "duration_minutes",
        "price_halalas",
        "buffer_minutes",
        "processing_minutes",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "name_ar", "salon__name")
    list_select_related = ("salon",)


class StaffServiceInline(admin.TabularInline):
    model = StaffService
    extra = 0


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ("start", "end", "reason", "cancellation")
    readonly_fields = ("cancellation",)


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ar", "salon", "phone", "invitation_status", "user", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "name_ar", "phone", "salon__name")
    list_select_related = ("salon", "user")
    raw_id_fields = ("user",)
    # The invitation a phone sends is answered by its owner (/me/staff-invitations/), not here.
    readonly_fields = ("rating", "review_count", "invited_at", "invitation_declined_at")
    inlines = (StaffServiceInline, WorkingHoursInline, TimeOffInline)


@admin.register(SpecialHours)
class SpecialHoursAdmin(admin.ModelAdmin):
    """Spans of dates whose week replaces the salon's business hours (no staff member) or a staff member's
    working hours. `hours` is the API's week: [{"day": "thu", "start": "16:00", "end": "02:00"}]."""

    list_display = ("salon", "staff", "start_date", "end_date", "reason")
    list_filter = ("start_date",)
    search_fields = ("salon__name", "staff__name", "reason")
    list_select_related = ("salon", "staff")
    raw_id_fields = ("salon", "staff")
