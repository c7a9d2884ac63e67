"""Our hash, signature check and QR decoder against a published signed simplified invoice (see the
fixture's comment for its source). The signature verifies only under SIGNATURE_MESSAGE = "digest"."""

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from backend.einvoicing import hashing, qr, signing, ubl, verify

SAMPLE = (Path(__file__).parent / "fixtures" / "zatca_xml_js_simplified_invoice.xml").read_bytes()
NS = verify.DS_NS


@pytest.fixture
def root():
    return ubl.parse(SAMPLE)


def value(root, path):
    return root.xpath(f"string({path})", namespaces=NS)


def test_our_hash_is_its_digest_value_and_its_qr_tag_6(root):
    invoice_hash = hashing.invoice_hash(root)
    assert invoice_hash == "oeRPH/CKLQuledRrrl2ckczL9bmtn7c8mxBFtNZkTRg="
    assert value(root, "//ds:Reference[@Id='invoiceSignedData']/ds:DigestValue") == invoice_hash
    code = value(root, "//cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject")
    assert qr.decode(code).invoice_hash == invoice_hash


def test_its_qr_decodes_to_the_documents_fields(root):
    code = value(root, "//cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject")
    data = qr.decode(code)
    certificate = x509.load_der_x509_certificate(base64.b64decode(value(root, "//ds:X509Certificate")))
    assert (data.seller_name, data.vat_number) == ("Ahmed Mohamed AL Ahmady", "301121971500003")
    assert (data.timestamp, data.total, data.vat_total) == ("2022-03-13T14:40:40Z", "1108.9", "144.9")
    assert data.signature == value(root, "//ds:SignatureValue")
    assert len(data.public_key) == 88 and data.public_key == signing.public_key_der(certificate)
    assert data.certificate_signature == certificate.signature
    assert qr.encode(data) == code  # our encoder writes the same bytes


def test_its_signature_verifies_over_the_raw_digest_only(root, monkeypatch):
    certificate = x509.load_der_x509_certificate(base64.b64decode(value(root, "//ds:X509Certificate")))
    digest = hashing.invoice_digest(root)
    signature = value(root, "//ds:SignatureValue")
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert signing.signature_is_valid(certificate.public_key(), digest, signature)
    monkeypatch.setattr(signing, "SIGNATURE_MESSAGE", "hex")
    assert not signing.signature_is_valid(certificate.public_key(), digest, signature)


def test_its_xades_digests_and_issuer_are_computed_as_ours(root):
    certificate = x509.load_der_x509_certificate(base64.b64decode(value(root, "//ds:X509Certificate")))
    assert value(root, "//xades:CertDigest/ds:DigestValue") == signing.certificate_digest(
        value(root, "//ds:X509Certificate")
    )
    assert value(root, "//ds:X509IssuerName") == signing.issuer_name(certificate)
    assert value(root, "//ds:X509SerialNumber") == str(certificate.serial_number)
    properties = root.xpath("//xades:SignedProperties", namespaces=NS)[0]
    assert value(root, "//ds:Reference[@URI='#xadesSignedProperties']/ds:DigestValue") == (
        signing.signed_properties_digest(properties)
    )


def test_the_verifier_finds_nothing_wrong_and_the_first_pih(root):
    result = verify.verify_document(SAMPLE)
    assert result.problems == []
    assert (result.counter, result.previous_hash, result.type_code) == ("62", hashing.FIRST_PIH, "388")
