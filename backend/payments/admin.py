"""Payments, refunds and webhook events, read-only: every change goes through the gateway and the
services (a row edited by hand would disagree with Moyasar)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from backend.core.admin import RecordAdmin
from backend.core.errors import ApplicationError
from backend.payments.models import Payment, Refund, WebhookEvent
from backend.payments.services import payment_refund


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("key", "amount_halalas", "status", "attempts", "last_error", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(RecordAdmin):
    list_display = (
        "id",
        "booking",
        "amount_halalas",
        "status",
        "source_type",
        "refunded_halalas",
        "created_at",
    )
    list_filter = ("status", "source_type")
    search_fields = ("id", "booking__id")
    date_hierarchy = "created_at"
    inlines = [RefundInline]
    actions = ["refund_in_full"]

    def has_refund_permission(self, request) -> bool:
        return request.user.is_superuser  # platform admins; managers refund through the API

    @admin.action(description=_("Refund the selected payments in full"), permissions=["refund"])
    def refund_in_full(self, request, queryset):
        # The managers' refund service: it refunds what is left (paid minus refunded and requested).
        for payment_id in queryset.order_by("created_at").values_list("pk", flat=True):
            try:
                payment = payment_refund(payment_id=payment_id, reason="platform admin")
            except ApplicationError as error:
                self.message_user(
                    request,
                    _("Payment %(id)s was not refunded: %(reason)s")
                    % {"id": payment_id, "reason": error.message},
                    level=messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _("Payment %(id)s: refund requested; %(refunded)s halalas refunded so far.")
                    % {"id": payment_id, "refunded": payment.refunded_halalas},
                    level=messages.SUCCESS,
                )


@admin.register(Refund)
class RefundAdmin(RecordAdmin):
    list_display = ("id", "payment", "amount_halalas", "status", "attempts", "key", "created_at")
    list_filter = ("status",)
    search_fields = ("key", "payment__id")


@admin.register(WebhookEvent)
class WebhookEventAdmin(RecordAdmin):
    list_display = ("event_id", "type", "payment", "outcome", "received_at", "processed_at")
    list_filter = ("type", "outcome")
    search_fields = ("event_id", "payment__id")
