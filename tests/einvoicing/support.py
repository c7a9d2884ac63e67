"""Documents and signing identities for the e-invoicing tests."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from backend.einvoicing import hashing, keys, ubl
from backend.einvoicing.signing import SigningIdentity

SELLER = ubl.SellerProfile(
    legal_name="صالون الفارس للحلاقة",
    vat_number="310122393500003",
    cr_number="1010010000",
    address=ubl.Address(
        street="King Fahd Road", building="1234", district="Al Olaya", city="Riyadh", postal_code="12211"
    ),
)
ISSUED_AT = datetime(2026, 3, 1, 18, 30, 5, tzinfo=UTC)
SUBJECT = keys.CsrSubject(
    common_name="salon-1",
    organization="Al Faris Barbershop",
    organization_unit="Riyadh Branch",
    vat_number=SELLER.vat_number,
    solution_name="SalonBooking",
    model="web",
    serial="7f1c0c4e-0000-4000-8000-000000000001",
    registered_address="King Fahd Road 1234, Riyadh",
    business_category="Beauty salon",
)


def certificate_for(key: ec.EllipticCurvePrivateKey) -> tuple[x509.Certificate, str]:
    """A certificate for `key` signed by a throwaway CA, and its base64 DER text."""
    ca_key = ec.generate_private_key(ec.SECP256K1())
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "local"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "test"),
            x509.NameAttribute(NameOID.COMMON_NAME, "TEST-SubCA"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salon-1")]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(123456789012345678901234567890)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


def make_identity() -> SigningIdentity:
    key = keys.generate_private_key()
    certificate, text = certificate_for(key)
    return SigningIdentity(private_key=key, certificate=certificate, certificate_text=text)


def make_document(**changes) -> ubl.Document:
    document = ubl.Document(
        kind=ubl.Kind.INVOICE,
        number="INV-1-000001",
        uuid=uuid.UUID("3cf5ee18-ee25-44ea-a444-2c37ba7f28be"),
        issued_at=ISSUED_AT,
        counter=1,
        previous_hash=hashing.FIRST_PIH,
        seller=SELLER,
        lines=(ubl.Line("Haircut", 11500), ubl.Line("Beard trim", 5750), ubl.Line("Tip", 1000)),
        payment_means=ubl.PaymentMeans.CASH,
    )
    return replace(document, **changes) if changes else document
