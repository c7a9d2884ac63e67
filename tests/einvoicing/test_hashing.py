import base64
import hashlib
from pathlib import Path

from lxml import etree

from backend.einvoicing import hashing, ubl

from .support import make_document

SAMPLE = Path(__file__).parent / "fixtures" / "zatca_xml_js_simplified_invoice.xml"


def test_the_first_pih_is_base64_of_the_hex_sha256_of_zero():
    assert base64.b64encode(hashlib.sha256(b"0").hexdigest().encode()).decode() == hashing.FIRST_PIH


def test_the_three_parts_are_left_out_and_the_whitespace_around_them_stays():
    text = (
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
        ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
        ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
        ' xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2">'
        "<ext:UBLExtensions>x</ext:UBLExtensions>\n <cbc:ID>1</cbc:ID>\n"
        " <cac:AdditionalDocumentReference><cbc:ID>QR</cbc:ID></cac:AdditionalDocumentReference>\n"
        " <cac:AdditionalDocumentReference><cbc:ID>PIH</cbc:ID></cac:AdditionalDocumentReference>\n"
        " <cac:Signature/>\n</Invoice>"
    )
    canonical = hashing.canonical_bytes(etree.fromstring(text)).decode()
    assert "UBLExtensions" not in canonical and "QR" not in canonical and "Signature" not in canonical
    assert "PIH" in canonical
    # the text before and after each removed element stays: "\n " + "\n"
    assert canonical.endswith(
        "<cbc:ID>1</cbc:ID>\n \n <cac:AdditionalDocumentReference><cbc:ID>PIH</cbc:ID>"
        "</cac:AdditionalDocumentReference>\n \n</Invoice>"
    )


def test_c14n_1_0_inclusive_is_the_variant_the_published_sample_was_hashed_with():
    root = ubl.parse(SAMPLE.read_bytes())
    signed = root.xpath("string(//*[@Id='invoiceSignedData']/*[local-name()='DigestValue'])")
    assert hashing.invoice_hash(root) == signed
    # The alternatives lxml offers give other bytes: exclusive C14N 1.0 and C14N 2.0 drop the namespace
    # declarations the content does not use.
    copy = etree.fromstring(hashing.canonical_bytes(root))
    for method, options in (("c14n", {"exclusive": True}), ("c14n2", {})):
        other = etree.tostring(copy, method=method, **options)
        assert base64.b64encode(hashlib.sha256(other).digest()).decode() != signed


def test_the_hash_does_not_see_the_signature_nor_the_qr_but_sees_everything_else():
    root = ubl.build(make_document())
    before = hashing.invoice_hash(root)
    root.insert(0, etree.Element(f"{{{ubl.NS['ext']}}}UBLExtensions"))
    root.xpath("cac:AdditionalDocumentReference[cbc:ID='PIH']", namespaces=ubl.XPATH_NS)[0].addnext(
        ubl.qr_reference("abc")
    )
    assert hashing.invoice_hash(root) == before
    root.xpath("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ubl.XPATH_NS)[0].text = "1.00"
    assert hashing.invoice_hash(root) != before
