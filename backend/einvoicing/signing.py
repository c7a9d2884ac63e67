"""The cryptographic stamp: ZATCA's XAdES-BES enveloped signature, and the QR it goes with.

ZATCA's signature is not a plain XMLDSig one (that is why signxml, which signs the canonical SignedInfo, is
not used: docs/adr/0009-einvoicing-foundation.md):

- ``SignatureValue`` is ECDSA-SHA256 (DER, base64) over the invoice hash itself. ``SIGNATURE_MESSAGE`` is
  the one switch for what is signed: ``"digest"`` the 32 raw bytes of the hash (zatca-xml-js; the published
  signed sample in tests/einvoicing/fixtures verifies only this way), ``"hex"`` its 64-character hex text
  (Odoo). Which one ZATCA's validator checks is unconfirmed (docs/risks.md).
- ``CertDigest`` and the ``xadesSignedProperties`` digest are base64 of the *hex* SHA-256, the first over
  the certificate's base64 text, the second over the SignedProperties element in its exclusive-C14N form
  with empty elements written ``<x/>`` (the form the sample's digest verifies under).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from backend.einvoicing import hashing, qr, ubl

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
SIG = "urn:oasis:names:specification:ubl:schema:xsd:CommonSignatureComponents-2"
SAC = "urn:oasis:names:specification:ubl:schema:xsd:SignatureAggregateComponents-2"
SBC = "urn:oasis:names:specification:ubl:schema:xsd:SignatureBasicComponents-2"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
XPATH_FILTER = "http://www.w3.org/TR/1999/REC-xpath-19991116"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
TRANSFORMS = (
    "not(//ancestor-or-self::ext:UBLExtensions)",
    "not(//ancestor-or-self::cac:Signature)",
    "not(//ancestor-or-self::cac:AdditionalDocumentReference[cbc:ID='QR'])",
)
SIGNATURE_MESSAGE = "digest"  # "digest" | "hex": see the module's docstring
_EMPTY_ELEMENT = re.compile(r'<([\w.:-]+)((?:\s+[\w.:-]+="[^"]*")*)></\1>')


def signature_message(digest: bytes) -> bytes:
    return digest if SIGNATURE_MESSAGE == "digest" else digest.hex().encode()


def sign_hash(key: ec.EllipticCurvePrivateKey, digest: bytes) -> str:
    return base64.b64encode(key.sign(signature_message(digest), ec.ECDSA(hashes.SHA256()))).decode()


def signature_is_valid(public_key: ec.EllipticCurvePublicKey, digest: bytes, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), signature_message(digest), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _hex_digest_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode()


def certificate_digest(certificate_text: str) -> str:
    return _hex_digest_base64(certificate_text.encode())


def issuer_name(certificate: x509.Certificate) -> str:
    """``CN=…, DC=…`` as ZATCA writes it: most specific first, comma and space."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(certificate.issuer.rdns))


def signed_properties_digest(properties: etree._Element) -> str:
    canonical = etree.tostring(properties, method="c14n", exclusive=True).decode()
    return _hex_digest_base64(_EMPTY_ELEMENT.sub(r"<\1\2/>", canonical).encode())


def public_key_der(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class SigningIdentity:
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    certificate_text: str  # base64 DER, as ds:X509Certificate holds it


@dataclass(frozen=True)
class SignedDocument:
    xml: bytes
    invoice_hash: str
    signature: str
    qr: str
    signing_time: str


def _el(parent: etree._Element, namespace: str, name: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{namespace}}}{name}", attrs)
    element.text = text
    return element


def _signed_properties(parent: etree._Element, identity: SigningIdentity, signing_time: str):
    properties = _el(parent, XADES, "SignedProperties", Id="xadesSignedProperties")
    signature_properties = _el(properties, XADES, "SignedSignatureProperties")
    _el(signature_properties, XADES, "SigningTime", signing_time)
    cert = _el(_el(signature_properties, XADES, "SigningCertificate"), XADES, "Cert")
    cert_digest = _el(cert, XADES, "CertDigest")
    _el(cert_digest, DS, "DigestMethod", Algorithm=SHA256)
    _el(cert_digest, DS, "DigestValue", certificate_digest(identity.certificate_text))
    issuer_serial = _el(cert, XADES, "IssuerSerial")
    _el(issuer_serial, DS, "X509IssuerName", issuer_name(identity.certificate))
    _el(issuer_serial, DS, "X509SerialNumber", str(identity.certificate.serial_number))
    return properties


def _extensions(invoice_hash: str, signature: str, identity: SigningIdentity, signing_time: str):
    extensions = etree.Element(f"{{{ubl.NS['ext']}}}UBLExtensions", nsmap={"ext": ubl.NS["ext"]})
    extension = _el(extensions, ubl.NS["ext"], "UBLExtension")
    _el(extension, ubl.NS["ext"], "ExtensionURI", ubl.SIGNATURE_METHOD)
    content = _el(extension, ubl.NS["ext"], "ExtensionContent")
    signatures = etree.SubElement(
        content, f"{{{SIG}}}UBLDocumentSignatures", nsmap={"sig": SIG, "sac": SAC, "sbc": SBC}
    )
    information = _el(signatures, SAC, "SignatureInformation")
    _el(information, ubl.NS["cbc"], "ID", "urn:oasis:names:specification:ubl:signature:1")
    _el(information, SBC, "ReferencedSignatureID", ubl.SIGNATURE_ID)
    ds_signature = etree.SubElement(information, f"{{{DS}}}Signature", {"Id": "signature"}, nsmap={"ds": DS})
    signed_info = _el(ds_signature, DS, "SignedInfo")
    _el(signed_info, DS, "CanonicalizationMethod", Algorithm=C14N11)
    _el(signed_info, DS, "SignatureMethod", Algorithm=ECDSA_SHA256)
    reference = _el(signed_info, DS, "Reference", Id="invoiceSignedData", URI="")
    transforms = _el(reference, DS, "Transforms")
    for expression in TRANSFORMS:
        _el(_el(transforms, DS, "Transform", Algorithm=XPATH_FILTER), DS, "XPath", expression)
    _el(transforms, DS, "Transform", Algorithm=C14N11)
    _el(reference, DS, "DigestMethod", Algorithm=SHA256)
    _el(reference, DS, "DigestValue", invoice_hash)
    properties_reference = _el(
        signed_info, DS, "Reference", Type=f"{DS}SignatureProperties", URI="#xadesSignedProperties"
    )
    _el(properties_reference, DS, "DigestMethod", Algorithm=SHA256)
    properties_digest = _el(properties_reference, DS, "DigestValue")
    _el(ds_signature, DS, "SignatureValue", signature)
    _el(
        _el(_el(ds_signature, DS, "KeyInfo"), DS, "X509Data"),
        DS,
        "X509Certificate",
        identity.certificate_text,
    )
    qualifying = etree.SubElement(
        _el(ds_signature, DS, "Object"),
        f"{{{XADES}}}QualifyingProperties",
        {"Target": "signature"},
        nsmap={"xades": XADES},
    )
    properties_digest.text = signed_properties_digest(_signed_properties(qualifying, identity, signing_time))
    return extensions


def qr_data(root: etree._Element, *, invoice_hash: str, signature: str, certificate: x509.Certificate):
    """The QR's fields: tags 1-5 read from the document itself, 6-9 from the stamp."""

    def text(path: str) -> str:
        return root.xpath(f"string({path})", namespaces=ubl.XPATH_NS)

    supplier = "/inv:Invoice/cac:AccountingSupplierParty/cac:Party"
    return qr.QrData(
        seller_name=text(f"{supplier}/cac:PartyLegalEntity/cbc:RegistrationName"),
        vat_number=text(f"{supplier}/cac:PartyTaxScheme/cbc:CompanyID"),
        timestamp=f"{text('/inv:Invoice/cbc:IssueDate')}T{text('/inv:Invoice/cbc:IssueTime')}Z",
        total=text("/inv:Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        vat_total=text("/inv:Invoice/cac:TaxTotal[1]/cbc:TaxAmount"),
        invoice_hash=invoice_hash,
        signature=signature,
        public_key=public_key_der(certificate),
        certificate_signature=certificate.signature,
    )


def sign_document(
    root: etree._Element, identity: SigningIdentity, *, signing_time: datetime | None = None
) -> SignedDocument:
    """Stamps an unsigned document from `ubl.build`: hash, signature, UBLExtensions and the QR."""
    document = etree.fromstring(etree.tostring(root))  # the caller's tree stays unsigned
    digest = hashing.invoice_digest(document)
    invoice_hash = base64.b64encode(digest).decode()
    signature = sign_hash(identity.private_key, digest)
    moment = (signing_time or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document.insert(0, _extensions(invoice_hash, signature, identity, moment))
    code = qr.encode(
        qr_data(document, invoice_hash=invoice_hash, signature=signature, certificate=identity.certificate)
    )
    previous_hash = document.xpath("cac:AdditionalDocumentReference[cbc:ID='PIH']", namespaces=ubl.XPATH_NS)[
        0
    ]
    previous_hash.addnext(ubl.qr_reference(code))
    return SignedDocument(
        xml=ubl.to_bytes(document),
        invoice_hash=invoice_hash,
        signature=signature,
        qr=code,
        signing_time=moment,
    )
