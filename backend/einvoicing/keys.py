"""A unit's key, its CSR and certificate, and the key's encryption at rest.

- The key is ECDSA on secp256k1 (ZATCA's curve), generated here; it never leaves us.
- The CSR: subject ``C=SA, OU, O, CN``; the certificate template name (extension 1.3.6.1.4.1.311.20.2)
  of the environment; a subjectAltName directory name with SN (``1-solution|2-model|3-serial``), UID (the
  VAT number), title (the invoice types: ``0100`` simplified only, TSCZ order, unconfirmed), registeredAddress
  and businessCategory; signed with SHA-256. ZATCA wants base64 of the PEM.
- The template name is DER-encoded as a PrintableString (``TEMPLATE_STRING_TAG``): ZATCA's SDK config and
  some libraries use PrintableString, others UTF8String; which the CA insists on is unconfirmed.
- Keys are stored only Fernet-encrypted under ``EINVOICING_KEY_ENCRYPTION_KEY`` (comma-separated keys: the
  first encrypts, any decrypts, so the key can be rotated).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TEMPLATE_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2")
REGISTERED_ADDRESS_OID = ObjectIdentifier("2.5.4.26")
TEMPLATE_NAMES = {
    "sandbox": "TSTZATCA-Code-Signing",
    "simulation": "PREZATCA-Code-Signing",
    "production": "ZATCA-Code-Signing",
}
PRINTABLE_STRING, UTF8_STRING = 0x13, 0x0C
TEMPLATE_STRING_TAG = PRINTABLE_STRING
SIMPLIFIED_ONLY = "0100"


class KeyMaterialError(Exception):
    """A key or certificate that cannot be used (wrong curve, unreadable, undecryptable)."""


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256K1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError as error:
        raise KeyMaterialError("not a PEM private key") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256k1":
        raise KeyMaterialError("ZATCA keys are ECDSA keys on secp256k1")
    return key


@dataclass(frozen=True)
class CsrSubject:
    common_name: str  # the unit's name, e.g. "salon-42"
    organization: str  # the taxpayer's legal name
    organization_unit: str  # the branch
    vat_number: str
    solution_name: str
    model: str
    serial: str  # the unit's serial, unique per unit
    registered_address: str  # the unit's location
    business_category: str  # e.g. "Beauty salon"
    invoice_types: str = SIMPLIFIED_ONLY

    @property
    def egs_serial_number(self) -> str:
        return f"1-{self.solution_name}|2-{self.model}|3-{self.serial}"


def _template_extension(environment: str) -> x509.UnrecognizedExtension:
    if environment not in TEMPLATE_NAMES:
        raise ValueError(f"unknown ZATCA environment: {environment!r}")
    name = TEMPLATE_NAMES[environment].encode("ascii")
    return x509.UnrecognizedExtension(TEMPLATE_OID, bytes([TEMPLATE_STRING_TAG, len(name)]) + name)


def build_csr(key: ec.EllipticCurvePrivateKey, subject: CsrSubject, environment: str) -> bytes:
    """The CSR as PEM."""
    directory = x509.Name(
        [
            x509.NameAttribute(NameOID.SURNAME, subject.egs_serial_number),
            x509.NameAttribute(NameOID.USER_ID, subject.vat_number),
            x509.NameAttribute(NameOID.TITLE, subject.invoice_types),
            x509.NameAttribute(REGISTERED_ADDRESS_OID, subject.registered_address),
            x509.NameAttribute(NameOID.BUSINESS_CATEGORY, subject.business_category),
        ]
    )
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SA"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, subject.organization_unit),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject.organization),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.common_name),
        ]
    )
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name)
        .add_extension(_template_extension(environment), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(directory)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def csr_base64(csr_pem: bytes) -> str:
    """What ``POST /compliance`` takes: base64 of the PEM."""
    return base64.b64encode(csr_pem).decode()


def certificate_from_token(binary_security_token: str) -> tuple[x509.Certificate, str]:
    """The certificate in a CSID answer, and its base64 DER text (what ``ds:X509Certificate`` holds):
    ``binarySecurityToken`` is base64 of that text."""
    try:
        certificate_text = base64.b64decode(binary_security_token, validate=True).decode("ascii")
        certificate = x509.load_der_x509_certificate(base64.b64decode(certificate_text, validate=True))
    except ValueError as error:
        raise KeyMaterialError("the binarySecurityToken holds no certificate") from error
    return certificate, certificate_text


def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.EINVOICING_KEY_ENCRYPTION_KEY.split(",") if key.strip()]
    if not keys:
        raise ImproperlyConfigured("EINVOICING_KEY_ENCRYPTION_KEY is not set: keys cannot be stored")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "EINVOICING_KEY_ENCRYPTION_KEY holds a key that is not a Fernet key"
        ) from error


def encrypt_private_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The key as it may be stored: a Fernet token of its PEM, never the PEM itself."""
    return _fernet().encrypt(private_key_pem(key)).decode()


def decrypt_private_key(token: str) -> ec.EllipticCurvePrivateKey:
    try:
        pem = _fernet().decrypt(token.encode())
    except InvalidToken as error:
        raise KeyMaterialError(
            "the stored key does not decrypt under EINVOICING_KEY_ENCRYPTION_KEY"
        ) from error
    return load_private_key(pem)


def encrypt_secret(secret: str) -> str:
    """A CSID's secret as it may be stored: a Fernet token."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise KeyMaterialError(
            "the stored secret does not decrypt under EINVOICING_KEY_ENCRYPTION_KEY"
        ) from error
