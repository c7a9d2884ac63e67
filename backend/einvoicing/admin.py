"""E-invoicing in the Django admin, read-only (a document edited by hand would break its hash and the
chain): tax profiles, units (never their secrets) and documents, rejected ones one filter away, with an
action that enqueues a unit's reporting again."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from backend.core.admin import RecordAdmin
from backend.einvoicing.issuing import enqueue_report
from backend.einvoicing.models import Document, TaxProfile, Unit


@admin.register(TaxProfile)
class TaxProfileAdmin(RecordAdmin):
    list_display = ("salon", "legal_name", "vat_number", "cr_number", "vat_rate_percent", "updated_at")
    search_fields = ("legal_name", "vat_number", "cr_number")


@admin.register(Unit)
class UnitAdmin(RecordAdmin):
    list_display = ("salon", "status", "environment", "last_counter", "onboarded_at", "reporting_claimed_at")
    list_filter = ("status", "environment")
    fields = (
        "salon",
        "status",
        "environment",
        "onboarded_at",
        "last_counter",
        "last_hash",
        "reporting_claimed_at",
        "report_not_before",
    )
    actions = ["report_now"]

    @admin.action(description=_("Report waiting documents now"))
    def report_now(self, request, queryset) -> None:
        # An operator who knows ZATCA is back skips the rest of a retry's backoff.
        queryset.update(report_not_before=None)
        for unit in queryset:
            enqueue_report(unit.pk)
        self.message_user(request, _("%(count)d unit(s) enqueued.") % {"count": len(queryset)}, messages.INFO)


@admin.register(Document)
class DocumentAdmin(RecordAdmin):
    list_display = (
        "number",
        "kind",
        "unit",
        "counter",
        "status",
        "total_halalas",
        "vat_halalas",
        "issued_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("number", "uuid", "invoice_hash")
    date_hierarchy = "issued_at"
    exclude = ("unsigned_xml", "signed_xml")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit__salon")
