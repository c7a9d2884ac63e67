from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backend.core.admin import ReadOnlyAdmin
from backend.notifications.models import Device, Notification, Status, WhatsAppStatus
from backend.notifications.selectors import notification_delivery_stats
from backend.notifications.services import notification_retry


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "phone",
        "channel",
        "status",
        "attempts",
        "provider",
        "provider_status",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "kind", "channel", "provider", "language")
    search_fields = ("phone", "dedupe_key", "provider_message_id")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request) -> bool:
        return False  # rows are written by the services, with the change they tell about

    def changelist_view(self, request, extra_context=None):
        stats = notification_delivery_stats()
        self.message_user(
            request,
            _(
                "Last %(hours)s h: %(sent)s sent, %(failed)s failed. Now: %(retrying)s retrying, "
                "%(pending)s pending, oldest undelivered %(age)s s old."
            )
            % {
                "hours": stats.window_hours,
                "sent": stats.sent,
                "failed": stats.failed,
                "retrying": stats.retrying,
                "pending": stats.pending + stats.sending,
                "age": round(stats.oldest_pending_age_seconds or 0),
            },
            level=messages.INFO,
        )
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Retry the selected failed notifications"))
    def retry_failed(self, request, queryset):
        count = notification_retry(
            notification_ids=list(queryset.filter(status=Status.FAILED).values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext("%d notification queued again.", "%d notifications queued again.", count) % count,
        )


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    """Push devices, for support ("does this customer have the app?"); the token is not shown."""

    list_display = ("id", "user", "platform", "created_at", "updated_at")
    list_filter = ("platform",)
    search_fields = ("user__phone_number",)
    exclude = ("token",)
    raw_id_fields = ("user",)


@admin.register(WhatsAppStatus)
class WhatsAppStatusAdmin(ReadOnlyAdmin):
    """Delivery statuses WhatsApp reported, as received."""

    list_display = ("wamid", "status", "notification_id", "error_codes", "reported_at", "received_at")
    list_filter = ("status",)
    search_fields = ("wamid",)
