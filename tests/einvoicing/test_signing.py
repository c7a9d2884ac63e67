import base64
from datetime import UTC, datetime

from lxml import etree

from backend.einvoicing import hashing, qr, signing, ubl, verify

from .support import make_document, make_identity

NS = verify.DS_NS


def sign(document=None, identity=None):
    identity = identity or make_identity()
    root = ubl.build(document or make_document())
    return (
        root,
        identity,
        signing.sign_document(root, identity, signing_time=datetime(2026, 3, 1, 18, 31, tzinfo=UTC)),
    )


def test_a_signed_document_verifies_and_carries_the_stamp():
    unsigned, identity, signed = sign()
    root = ubl.parse(signed.xml)
    assert verify.verify_document(signed.xml).problems == []
    assert signed.invoice_hash == hashing.invoice_hash(unsigned) == hashing.invoice_hash(root)
    assert unsigned.find(f"{{{ubl.NS['ext']}}}UBLExtensions") is None  # the caller's tree is untouched
    assert root[0].tag == f"{{{ubl.NS['ext']}}}UBLExtensions"
    references = root.xpath("cac:AdditionalDocumentReference/cbc:ID/text()", namespaces=NS)
    assert references == ["ICV", "PIH", "QR"]
    assert root.xpath("string(//xades:SigningTime)", namespaces=NS) == "2026-03-01T18:31:00Z"
    assert signed.signing_time == "2026-03-01T18:31:00Z"
    assert root.xpath("string(//ds:X509IssuerName)", namespaces=NS) == "CN=TEST-SubCA, DC=test, DC=local"
    transforms = root.xpath("//ds:Reference[@Id='invoiceSignedData']//ds:Transform/@Algorithm", namespaces=NS)
    assert transforms == [signing.XPATH_FILTER] * 3 + [signing.C14N11]
    data = qr.decode(signed.qr)
    assert (data.total, data.vat_total, data.timestamp) == ("182.50", "23.80", "2026-03-01T18:30:05Z")
    assert data.seller_name == "صالون الفارس للحلاقة"
    assert data.signature == signed.signature and data.invoice_hash == signed.invoice_hash
    assert data.certificate_signature == identity.certificate.signature


def test_the_hex_variant_is_one_switch(monkeypatch):
    monkeypatch.setattr(signing, "SIGNATURE_MESSAGE", "hex")
    _, identity, signed = sign()
    digest = base64.b64decode(signed.invoice_hash)
    assert signing.signature_is_valid(identity.certificate.public_key(), digest, signed.signature)
    assert verify.verify_document(signed.xml).problems == []
    monkeypatch.setattr(signing, "SIGNATURE_MESSAGE", "digest")
    assert not signing.signature_is_valid(identity.certificate.public_key(), digest, signed.signature)


def _tampered(xml: bytes, path: str, text: str) -> bytes:
    root = ubl.parse(xml)
    root.xpath(path, namespaces=NS)[0].text = text
    return etree.tostring(root)


def codes(xml: bytes) -> set[str]:
    return {problem.code for problem in verify.verify_document(xml).problems}


def test_the_verifier_catches_each_kind_of_tampering():
    _, _, signed = sign()
    # a changed total changes the hash: the signed digest, the signature and the QR's hash all disagree
    assert codes(_tampered(signed.xml, "cac:LegalMonetaryTotal/cbc:PayableAmount", "1.00")) == {
        "invalid-invoice-hash",
        "invalid-signature",
        "invoiceHash_QRCODE_INVALID",
    }
    assert codes(_tampered(signed.xml, "//ds:SignatureValue", base64.b64encode(b"0" * 70).decode())) == {
        "invalid-signature",
        "signature_QRCODE_INVALID",
    }
    assert codes(_tampered(signed.xml, "//xades:SigningTime", "2020-01-01T00:00:00Z")) == {
        "invalid-signed-properties"
    }
    assert codes(_tampered(signed.xml, "//xades:CertDigest/ds:DigestValue", "eA==")) == {
        "invalid-certificate-digest",
        "invalid-signed-properties",
    }
    other_qr = sign(make_document(lines=(ubl.Line("Haircut", 100),)))[2].qr
    qr_path = "cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject"
    assert codes(_tampered(signed.xml, qr_path, other_qr)) == {
        f"{name}_QRCODE_INVALID"
        for name in ("totals", "invoiceHash", "signature", "publicKey", "certificateSignature")
    }
    assert codes(_tampered(signed.xml, qr_path, "not a qr")) == {"QRCODE_INVALID"}
    assert codes(_tampered(signed.xml, "//ds:X509Certificate", "AAAA")) == {"invalid-certificate"}
    assert codes(b"<Invoice") == {"invalid-xml"}
    assert codes(b"<Other/>") == {"invalid-xml"}


def test_the_qr_seller_and_time_are_checked():
    _, _, signed = sign()
    data = qr.decode(signed.qr)
    fields = {"seller_name": "Someone else", "timestamp": "2020-01-01T00:00:00Z", "total": "x"}
    for name, wrong in fields.items():
        forged = qr.encode(qr.QrData(**{**data.__dict__, name: wrong}))
        path = "cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject"
        expected = {"seller_name": "seller", "timestamp": "timestamp", "total": "totals"}[name]
        assert codes(_tampered(signed.xml, path, forged)) == {f"{expected}_QRCODE_INVALID"}
