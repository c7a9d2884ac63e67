"""Checks a signed document the way ZATCA's validator is described to (providers.md): the hash, the
XAdES digests, the signature against the embedded certificate, and the QR against both.

Used by the fake Fatoora server and by the golden tests on a published signed sample. It returns the
problems found, each with a code in ZATCA's style, rather than raising: a validator reports them all.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from cryptography import x509
from lxml import etree

from backend.einvoicing import hashing, qr, signing, ubl

DS_NS = {"ds": signing.DS, "xades": signing.XADES} | ubl.XPATH_NS


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass
class Verified:
    invoice_hash: str = ""
    uuid: str = ""
    counter: str = ""
    previous_hash: str = ""
    type_code: str = ""
    certificate: x509.Certificate | None = None
    qr: qr.QrData | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))


def _text(root: etree._Element, path: str) -> str:
    return root.xpath(f"string({path})", namespaces=DS_NS)


def _certificate(root: etree._Element, result: Verified) -> x509.Certificate | None:
    text = _text(root, "//ds:X509Certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error):
        result.problem("invalid-certificate", "ds:X509Certificate holds no readable certificate")
        return None


def _check_stamp(root: etree._Element, result: Verified, certificate: x509.Certificate) -> str:
    digest = base64.b64decode(result.invoice_hash)
    if _text(root, "//ds:Reference[@Id='invoiceSignedData']/ds:DigestValue") != result.invoice_hash:
        result.problem("invalid-invoice-hash", "the signed invoice digest is not the document's hash")
    properties = root.xpath("//xades:SignedProperties", namespaces=DS_NS)
    expected = _text(root, "//ds:Reference[@URI='#xadesSignedProperties']/ds:DigestValue")
    if not properties or signing.signed_properties_digest(properties[0]) != expected:
        result.problem("invalid-signed-properties", "the xadesSignedProperties digest does not match")
    certificate_text = _text(root, "//ds:X509Certificate")
    if _text(root, "//xades:CertDigest/ds:DigestValue") != signing.certificate_digest(certificate_text):
        result.problem("invalid-certificate-digest", "xades:CertDigest is not the certificate's digest")
    signature = _text(root, "//ds:SignatureValue")
    if not signing.signature_is_valid(certificate.public_key(), digest, signature):
        result.problem("invalid-signature", "the signature does not verify with the certificate's key")
    return signature


def _check_qr(root: etree._Element, result: Verified, certificate: x509.Certificate, signature: str) -> None:
    code = _text(
        root, "/inv:Invoice/cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject"
    )
    try:
        result.qr = found = qr.decode(code)
    except qr.QrError as error:
        result.problem("QRCODE_INVALID", f"the QR code cannot be read: {error}")
        return
    expected = signing.qr_data(
        root, invoice_hash=result.invoice_hash, signature=signature, certificate=certificate
    )
    checks = (
        ("seller", (found.seller_name, found.vat_number) == (expected.seller_name, expected.vat_number)),
        ("timestamp", found.timestamp.rstrip("Z") == expected.timestamp.rstrip("Z")),
        ("totals", _same_amounts((found.total, found.vat_total), (expected.total, expected.vat_total))),
        ("invoiceHash", found.invoice_hash == result.invoice_hash),
        ("signature", found.signature == signature),
        ("publicKey", found.public_key == expected.public_key),
        ("certificateSignature", found.certificate_signature == expected.certificate_signature),
    )
    for name, ok in checks:
        if not ok:
            result.problem(f"{name}_QRCODE_INVALID", f"the QR's {name} does not match the document")


def _same_amounts(found: tuple[str, str], expected: tuple[str, str]) -> bool:
    try:
        return all(Decimal(a) == Decimal(b) for a, b in zip(found, expected, strict=True))
    except InvalidOperation:
        return False


def verify_document(xml: bytes) -> Verified:
    result = Verified()
    try:
        root = ubl.parse(xml)
    except etree.XMLSyntaxError as error:
        result.problem("invalid-xml", f"the document is not well-formed XML: {error}")
        return result
    if root.tag != f"{{{ubl.NS[None]}}}Invoice":
        result.problem("invalid-xml", "the root element is not a UBL Invoice")
        return result
    result.invoice_hash = hashing.invoice_hash(root)
    result.uuid = _text(root, "/inv:Invoice/cbc:UUID")
    result.counter = _text(root, "/inv:Invoice/cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID")
    result.previous_hash = _text(
        root, "/inv:Invoice/cac:AdditionalDocumentReference[cbc:ID='PIH']//cbc:EmbeddedDocumentBinaryObject"
    )
    result.type_code = _text(root, "/inv:Invoice/cbc:InvoiceTypeCode")
    result.certificate = certificate = _certificate(root, result)
    if certificate is not None:
        signature = _check_stamp(root, result, certificate)
        _check_qr(root, result, certificate, signature)
    return result
