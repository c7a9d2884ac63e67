"""E-invoicing rows: a salon's tax profile, its e-invoicing unit (key, CSIDs, the chain head) and its
documents (docs/adr/0011-einvoicing-wiring.md).

A unit's documents form one chain: counters 1, 2, 3... without gaps or repeats (unique (unit, counter)),
each one's PIH the previous one's hash. Both are fixed when the document is issued, under the unit's row
lock; the stamp (signature and QR), which the hash does not cover, may come later (a unit not onboarded)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.einvoicing.hashing import FIRST_PIH
from backend.einvoicing.vat import DEFAULT_VAT_RATE_PERCENT
from backend.salons.models import Salon


class TaxProfile(models.Model):
    """What the salon's invoices say about the seller (api-contract "Invoices": settings `tax`)."""

    salon = models.OneToOneField(Salon, on_delete=models.CASCADE, related_name="tax_profile")
    legal_name = models.CharField(_("legal name"), max_length=127)
    vat_number = models.CharField(_("VAT number"), max_length=15)
    cr_number = models.CharField(_("commercial registration number"), max_length=10)
    street = models.CharField(_("street"), max_length=127)
    building = models.CharField(_("building number"), max_length=4)
    district = models.CharField(_("district"), max_length=127)
    city = models.CharField(_("city"), max_length=127)
    postal_code = models.CharField(_("postal code"), max_length=5)
    vat_rate_percent = models.DecimalField(
        _("VAT rate (percent)"), max_digits=5, decimal_places=2, default=DEFAULT_VAT_RATE_PERCENT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tax profile")
        verbose_name_plural = _("tax profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate_percent__gt=0, vat_rate_percent__lte=100), name="tax_profile_rate_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.vat_number})"


class UnitStatus(models.TextChoices):
    NOT_ONBOARDED = "not_onboarded", _("Not onboarded")
    ONBOARDED = "onboarded", _("Onboarded")


class Unit(models.Model):
    """A salon's e-invoicing generation solution unit (EGS): its key and certificates, and the head of its
    document chain. Secrets are stored only as Fernet tokens (EINVOICING_KEY_ENCRYPTION_KEY)."""

    salon = models.OneToOneField(Salon, on_delete=models.PROTECT, related_name="einvoicing_unit")
    environment = models.CharField(_("environment"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.NOT_ONBOARDED
    )
    private_key = models.TextField(_("private key (encrypted)"), blank=True)
    compliance_token = models.TextField(_("compliance binarySecurityToken"), blank=True)
    compliance_secret = models.TextField(_("compliance secret (encrypted)"), blank=True)
    compliance_request_id = models.CharField(_("compliance request id"), max_length=64, blank=True)
    production_token = models.TextField(_("production binarySecurityToken"), blank=True)
    production_secret = models.TextField(_("production secret (encrypted)"), blank=True)
    onboarded_at = models.DateTimeField(_("onboarded at"), null=True, blank=True)
    # The chain head: the last document's counter and hash (FIRST_PIH before the first).
    last_counter = models.PositiveIntegerField(_("last counter"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=100, default=FIRST_PIH)
    # A report run is queued and has not started yet: issuing queues another only when this is false, so a
    # burst of payments queues one run, not one each. Set under the row lock with the chain head; cleared
    # by the run before it reads the documents (backend/einvoicing/reporting.py).
    report_queued = models.BooleanField(_("report queued"), default=False)
    # One reporter at a time per unit (a conditional UPDATE; stale after CELERY_TASK_TIME_LIMIT).
    reporting_claimed_at = models.DateTimeField(null=True, blank=True)
    # After a retryable failure: the sweep leaves the unit to its task's backoff until then.
    report_not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("e-invoicing unit")
        verbose_name_plural = _("e-invoicing units")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in UnitStatus]), name="unit_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"unit of salon {self.salon_id} ({self.status})"


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class DocumentStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REPORTED = "reported", _("Reported")
    REPORTED_WITH_WARNINGS = "reported_with_warnings", _("Reported with warnings")
    REJECTED = "rejected", _("Rejected")


REPORTED_STATUSES = (DocumentStatus.REPORTED, DocumentStatus.REPORTED_WITH_WARNINGS)


class Document(models.Model):
    """A simplified tax invoice (388) or credit note (381): the UBL the hash covers (`unsigned_xml`),
    and once stamped the signed XML exactly as produced (never re-serialized) with its QR."""

    # No index of their own: unit leads document_unit_counter_unique, in_salon_payment and refund have
    # their unique constraints; each index is one more b-tree written under the unit's lock at issue.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="documents", db_index=False)
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=40)
    uuid = models.UUIDField(_("UUID"), unique=True)
    counter = models.PositiveIntegerField(_("counter (ICV)"))
    previous_hash = models.CharField(_("previous hash (PIH)"), max_length=100)
    invoice_hash = models.CharField(_("invoice hash"), max_length=100)
    unsigned_xml = models.BinaryField(_("unsigned XML"))
    signed_xml = models.BinaryField(_("signed XML"), null=True, blank=True)
    qr = models.TextField(_("QR (base64 TLV)"), blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    lines = models.JSONField(_("lines"), default=list)  # [{"name", "inclusive", "vat", "exclusive", "rate"}]
    total_halalas = models.PositiveIntegerField(_("total with VAT (halalas)"))
    vat_halalas = models.PositiveIntegerField(_("VAT (halalas)"))
    payment_means = models.CharField(_("payment means"), max_length=8)
    status = models.CharField(
        _("status"), max_length=24, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED
    )
    messages = models.JSONField(_("ZATCA messages"), default=list, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="einvoicing_documents"
    )
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    in_salon_payment = models.ForeignKey(
        "payments.InSalonPayment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    billing_reference = models.CharField(_("billing reference"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("e-invoicing document")
        verbose_name_plural = _("e-invoicing documents")
        ordering = ["unit", "counter"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "counter"], name="document_unit_counter_unique"),
            models.UniqueConstraint(fields=["unit", "number"], name="document_unit_number_unique"),
            # One invoice per payment received, one credit note per refund landed.
            models.UniqueConstraint(
                fields=["payment"], condition=Q(kind="invoice"), name="document_one_invoice_per_payment"
            ),
            models.UniqueConstraint(
                fields=["in_salon_payment"], name="document_one_invoice_per_in_salon_payment"
            ),
            models.UniqueConstraint(fields=["refund"], name="document_one_credit_note_per_refund"),
            models.CheckConstraint(condition=Q(counter__gte=1), name="document_counter_positive"),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in DocumentStatus]),
                name="document_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="invoice", refund__isnull=True, original__isnull=True)
                    | Q(kind="credit_note", refund__isnull=False, original__isnull=False)
                ),
                name="document_kind_sources",
            ),
        ]
        indexes = [models.Index(fields=["status", "issued_at"], name="document_status_issued")]

    def __str__(self) -> str:
        return f"{self.number} ({self.status})"
