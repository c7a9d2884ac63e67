"""Helpers for the e-invoicing wiring tests: tax profiles, payments that become paid, onboarding."""

from __future__ import annotations

from cryptography.fernet import Fernet

from backend.einvoicing import verify
from backend.einvoicing.models import Document, TaxProfile
from backend.einvoicing.profiles import tax_profile_set
from backend.fakes.fatoora import DEFAULT_OTP
from backend.payments.models import Payment, SourceType, Status
from backend.payments.services import payment_apply
from backend.providers.base import GatewayPayment

ENCRYPTION_KEY = Fernet.generate_key().decode()
TAX = {
    "legal_name": "صالون لمسة للتجميل",
    "vat_number": "310122393500003",
    "cr_number": "1010010000",
    "address": {
        "street": "King Fahd Road",
        "building": "1234",
        "district": "Al Olaya",
        "city": "Riyadh",
        "postal_code": "12211",
    },
}


def make_tax_profile(salon, **changes) -> TaxProfile:
    return tax_profile_set(salon=salon, data={**TAX, **changes})


def gateway_payment(payment: Payment, status: str = "paid", **changes) -> GatewayPayment:
    fields = {
        "gateway_id": str(payment.pk),
        "status": status,
        "amount": payment.amount_halalas,
        "currency": payment.currency,
        "refunded": 0,
        "captured": 0,
        "transaction_url": "",
        "message": "",
        "raw": {},
    }
    return GatewayPayment(**{**fields, **changes})


def make_paid_payment(booking, amount: int | None = None, status: str = "paid", **changes) -> Payment:
    """An online payment of the booking that the gateway reports `status` (paid: the hook issues)."""
    payment = Payment.objects.create(
        booking=booking,
        amount_halalas=amount or booking.price_halalas,
        status=Status.INITIATED,
        source_type=SourceType.TOKEN,
    )
    payment_apply(payment_id=payment.pk, remote=gateway_payment(payment, status, **changes))
    payment.refresh_from_db()
    return payment


def onboard(salon):
    from backend.einvoicing.onboarding import unit_onboard

    return unit_onboard(salon=salon, otp=DEFAULT_OTP)


def chain_of(unit_id: int) -> list[Document]:
    return list(Document.objects.filter(unit_id=unit_id).order_by("counter"))


def assert_chain(documents: list[Document], first_pih: str) -> None:
    """Counters 1..n, each PIH the previous hash, each stored hash the hash of the stored XML."""
    assert [document.counter for document in documents] == list(range(1, len(documents) + 1))
    previous = first_pih
    for document in documents:
        assert document.previous_hash == previous
        checked = verify.verify_document(bytes(document.signed_xml or document.unsigned_xml))
        assert checked.invoice_hash == document.invoice_hash
        assert checked.previous_hash == previous and checked.counter == str(document.counter)
        previous = document.invoice_hash
