import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from backend.bookings.models import Booking
from backend.salons.models import DEFAULT_CURRENCY


class Status(models.TextChoices):
    """Moyasar's statuses, plus our own `pending`: the row exists, the gateway has not answered yet."""

    PENDING = "pending", _("Pending")
    INITIATED = "initiated", _("Initiated")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    AUTHORIZED = "authorized", _("Authorized")
    CAPTURED = "captured", _("Captured")
    REFUNDED = "refunded", _("Refunded")
    VOIDED = "voided", _("Voided")


# Not final: the gateway may still move them on its own (the payer completing 3-D Secure).
OPEN_STATUSES = (Status.PENDING, Status.INITIATED)
# The money is (or was) the merchant's: the booking counts as paid.
SUCCESS_STATUSES = (Status.PAID, Status.AUTHORIZED, Status.CAPTURED, Status.REFUNDED)


class SourceType(models.TextChoices):
    TOKEN = "token", _("Card (tokenized)")
    APPLEPAY = "applepay", _("Apple Pay")
    STCPAY = "stcpay", _("STC Pay")


class Payment(models.Model):
    """One attempt to pay for a booking. The id is Moyasar's `given_id`, so the row exists before the
    gateway is called and a lost answer can be looked up."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    amount_halalas = models.PositiveIntegerField(_("amount (halalas)"))
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    source_type = models.CharField(_("source type"), max_length=16, choices=SourceType.choices)
    transaction_url = models.URLField(_("transaction URL"), max_length=2000, blank=True)
    refunded_halalas = models.PositiveIntegerField(_("refunded (halalas)"), default=0)
    captured_halalas = models.PositiveIntegerField(_("captured (halalas)"), default=0)
    message = models.TextField(_("message"), blank=True)
    gateway_payload = models.JSONField(_("gateway payload"), null=True, blank=True)
    # The Idempotency-Key of the request that made it: a retry of that request continues this payment.
    request_key = models.CharField(_("request key"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_halalas__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_halalas__lte=F("amount_halalas")), name="payment_refund_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in Status]), name="payment_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created")]

    def __str__(self) -> str:
        return f"{self.pk} {self.amount_halalas} {self.currency} {self.status}"

    @property
    def settled_halalas(self) -> int:
        """What the merchant took: the captured part of a captured payment, all of a paid one."""
        if self.status == Status.CAPTURED:
            return self.captured_halalas
        return self.amount_halalas if self.status in SUCCESS_STATUSES else 0


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """Money to send back, committed with the reason for it and executed once by `payments.refund`."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_halalas = models.PositiveIntegerField(_("amount (halalas)"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # One refund per request: "cancellation:<booking>:<payment>", "late_payment:<payment>", "manual:<uuid>".
    key = models.CharField(_("key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # The gateway's refunded total just before our first call went out: set means "a call may have landed",
    # and the refund landed once the total reaches it plus our amount.
    gateway_refunded_before = models.PositiveIntegerField(_("gateway refunded before"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_halalas__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.amount_halalas} {self.status}"


class WebhookEvent(models.Model):
    """A gateway event, stored once by its id: a replay finds the row and does nothing."""

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=64)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.outcome or 'unprocessed'})"


class InSalonMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    MADA = "mada", _("mada")


class InSalonPayment(models.Model):
    """Money taken at the salon's counter (checkout): cash, or a card on the salon's own terminal. Never
    at the gateway, so it is kept apart from `Payment`, whose rows are all Moyasar's (reconciled, refunded
    through the gateway). One per booking: a second checkout of the same booking cannot be recorded."""

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="in_salon_payment")
    method = models.CharField(_("method"), max_length=8, choices=InSalonMethod.choices)
    amount_halalas = models.PositiveIntegerField(_("amount (halalas)"))  # the booking's price
    tip_halalas = models.PositiveIntegerField(_("tip (halalas)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("in-salon payment")
        verbose_name_plural = _("in-salon payments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=[choice.value for choice in InSalonMethod]),
                name="in_salon_payment_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.amount_halalas}+{self.tip_halalas} {self.currency} {self.method}"

    @property
    def total_halalas(self) -> int:
        return self.amount_halalas + self.tip_halalas
