from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator, URLValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backend.core.errors import ApplicationError
from backend.core.phone import phone_for_stcpay, phone_parse, phone_to_e164
from backend.core.serializers import StrictCharField
from backend.payments.checkout import MAX_TIP_HALALAS
from backend.payments.models import InSalonMethod, Payment, Refund, SourceType

MAX_TOKEN_LENGTH = 20_000  # an Apple Pay token is a few kilobytes of JSON
MAX_URL_LENGTH = 2000
MAX_AMOUNT_HALALAS = 10**9
# Card data: Moyasar forbids it on merchant servers; the app tokenizes cards with Moyasar's SDK.
RAW_CARD_FIELDS = frozenset({"number", "cvc", "month", "year"})


def raw_card_refused_error() -> ApplicationError:
    return ApplicationError(
        "raw_card_refused",
        _("Card details must not be sent to us: tokenize the card with Moyasar and send the token."),
    )


class PaymentSourceSerializer(serializers.Serializer):
    """A Moyasar source without card data: `token` (a card tokenized by Moyasar's SDK, or an Apple Pay
    token) or `stcpay` with the payer's `mobile`. `creditcard` is refused whatever it carries."""

    type = serializers.ChoiceField(choices=[*SourceType.values, "creditcard"])
    token = StrictCharField(required=False, max_length=MAX_TOKEN_LENGTH)
    mobile = StrictCharField(required=False, max_length=32, help_text="stcpay: a Saudi mobile.")

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict) and (data.get("type") == "creditcard" or RAW_CARD_FIELDS & data.keys()):
            raise raw_card_refused_error()
        values = super().to_internal_value(data)
        if values["type"] == SourceType.STCPAY:
            return {"type": SourceType.STCPAY, "mobile": self._stcpay_mobile(values.get("mobile"))}
        if not values.get("token"):
            raise serializers.ValidationError({"token": [_("This field is required.")]})
        return {"type": values["type"], "token": values["token"]}

    @staticmethod
    def _stcpay_mobile(raw: str | None) -> str:
        invalid = serializers.ValidationError({"mobile": [_("Enter a Saudi mobile number.")]})
        try:
            number = phone_parse(raw, region="SA")
        except ApplicationError:
            raise invalid from None
        is_mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        if not is_mobile or phonenumbers.region_code_for_number(number) != "SA":
            raise invalid
        return phone_for_stcpay(phone_to_e164(number))


class PaymentCreateSerializer(serializers.Serializer):
    source = PaymentSourceSerializer()
    callback_url = serializers.URLField(
        max_length=MAX_URL_LENGTH,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where the payer returns after 3-D Secure (with the payment id in the query string): an "
        "address under one of the platform's allowed origins (`PAYMENT_CALLBACK_ALLOWED`).",
    )

    def validate_callback_url(self, value: str) -> str:
        if not callback_url_allowed(value):
            raise serializers.ValidationError(_("This return address is not allowed."))
        return value


def callback_url_allowed(url: str) -> bool:
    """Whether the payer may be sent to `url` after 3-D Secure: its scheme and host (and port) are those of
    an entry of PAYMENT_CALLBACK_ALLOWED, and its path is under the entry's path. No entry: any address
    (development; the release step refuses it, salon.E011)."""
    entries = settings.PAYMENT_CALLBACK_ALLOWED
    if not entries:
        return True
    url_parts = urlsplit(url)
    for entry in entries:
        allowed = urlsplit(entry)
        prefix = allowed.path.rstrip("/")
        same_origin = (url_parts.scheme.lower(), url_parts.netloc.lower()) == (
            allowed.scheme.lower(),
            allowed.netloc.lower(),
        )
        if same_origin and (
            not prefix or url_parts.path == prefix or url_parts.path.startswith(prefix + "/")
        ):
            return True
    return False


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ("id", "amount_halalas", "status", "reason", "created_at")
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    refunds = RefundSerializer(many=True, read_only=True)
    # Not `format: uri`: a payment without a 3-D Secure page (wallets, settled ones) answers "".
    transaction_url = serializers.CharField(
        read_only=True, help_text="The 3-D Secure page to open, or empty when there is none."
    )

    class Meta:
        model = Payment
        fields = (
            "id",
            "booking",
            "status",
            "amount_halalas",
            "currency",
            "source_type",
            "transaction_url",
            "captured_halalas",
            "refunded_halalas",
            "message",
            "refunds",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class PaymentAmountSerializer(serializers.Serializer):
    amount_halalas = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_AMOUNT_HALALAS, help_text="Absent: all that is left."
    )


class WebhookEventSerializer(serializers.Serializer):
    """The parts of Moyasar's envelope we rely on (after the secret_token check)."""

    # Checked by the view before anything else; declared so that the schema shows how a webhook is
    # authenticated.
    secret_token = StrictCharField(help_text="The webhook secret (MOYASAR_WEBHOOK_SECRET); 401 if wrong.")
    id = StrictCharField(max_length=100)
    type = StrictCharField(max_length=64)
    data = serializers.DictField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The whole body is kept as the event's payload (jsonb), and PostgreSQL refuses "\u0000" in JSON
        # text: a 400 here, not a 500 at the insert. No gateway sends one.
        if _has_null_character(self.initial_data):
            raise serializers.ValidationError(ProhibitNullCharactersValidator.message)
        return attrs


def _has_null_character(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_null_character(key) or _has_null_character(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_null_character(item) for item in value)
    return False


class WebhookOutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        help_text="What the event did: `applied`, `unchanged`, `mismatch`, `duplicate`, `ignored` or "
        "`unknown_payment`."
    )


class CheckoutSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=InSalonMethod.choices)
    tip_halalas = serializers.IntegerField(min_value=0, max_value=MAX_TIP_HALALAS, required=False, default=0)
