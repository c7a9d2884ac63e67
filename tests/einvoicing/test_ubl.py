import uuid
from datetime import timedelta, timezone

import pytest

from backend.einvoicing import ubl

from .support import ISSUED_AT, make_document

NS = ubl.XPATH_NS


def text(root, path):
    return root.xpath(f"string({path})", namespaces=NS)


def test_a_simplified_invoice_in_zatcas_element_order():
    root = ubl.build(make_document(issued_at=ISSUED_AT.astimezone(timezone(timedelta(hours=3)))))
    names = [element.tag.split("}")[1] for element in root]
    assert names == [
        "ProfileID", "ID", "UUID", "IssueDate", "IssueTime", "InvoiceTypeCode", "DocumentCurrencyCode",
        "TaxCurrencyCode", "AdditionalDocumentReference", "AdditionalDocumentReference", "Signature",
        "AccountingSupplierParty", "AccountingCustomerParty", "PaymentMeans", "TaxTotal", "TaxTotal",
        "LegalMonetaryTotal", "InvoiceLine", "InvoiceLine", "InvoiceLine",
    ]  # fmt: skip
    assert text(root, "cbc:ProfileID") == "reporting:1.0"
    assert (text(root, "cbc:IssueDate"), text(root, "cbc:IssueTime")) == ("2026-03-01", "18:30:05")  # UTC
    code = root.find("cbc:InvoiceTypeCode", NS)
    assert (code.text, code.get("name")) == ("388", "0200000")
    assert text(root, "cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID") == "1"
    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "10"
    party = "cac:AccountingSupplierParty/cac:Party"
    assert text(root, f"{party}/cac:PartyIdentification/cbc:ID[@schemeID='CRN']") == "1010010000"
    assert text(root, f"{party}/cac:PartyTaxScheme/cbc:CompanyID") == "310122393500003"
    assert text(root, f"{party}/cac:PostalAddress/cbc:CitySubdivisionName") == "Al Olaya"
    # 115.00 + 57.50 + 10.00 inclusive: VAT 15.00 + 7.50 + 1.30
    assert text(root, "cac:TaxTotal[1]/cbc:TaxAmount") == "23.80"
    assert text(root, "cac:TaxTotal[1]/cac:TaxSubtotal/cbc:TaxableAmount") == "158.70"
    assert text(root, "cac:TaxTotal[1]/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == "15.00"
    assert text(root, "cac:TaxTotal[2]/cbc:TaxAmount") == "23.80"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "182.50"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount") == "158.70"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "182.50"
    assert text(root, "cac:InvoiceLine[3]/cac:TaxTotal/cbc:RoundingAmount") == "10.00"
    assert text(root, "cac:InvoiceLine[3]/cac:Price/cbc:PriceAmount") == "8.70"
    assert ubl.to_bytes(root).startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<Invoice")


def test_a_credit_note_references_the_invoice_and_says_why():
    root = ubl.build(
        make_document(
            kind=ubl.Kind.CREDIT_NOTE,
            payment_means=ubl.PaymentMeans.MADA,
            billing_reference="INV-1-000001",
            reason="Booking cancelled by the salon",
        )
    )
    assert root.find("cbc:InvoiceTypeCode", NS).text == "381"
    names = [element.tag.split("}")[1] for element in root]
    assert names.index("BillingReference") == names.index("AdditionalDocumentReference") - 1
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "INV-1-000001"
    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "48"
    assert text(root, "cac:PaymentMeans/cbc:InstructionNote") == "Booking cancelled by the salon"
    debit = ubl.build(make_document(kind=ubl.Kind.DEBIT_NOTE, billing_reference="INV-1", reason="Extra"))
    assert debit.find("cbc:InvoiceTypeCode", NS).text == "383"


def test_card_is_a_bank_card():
    assert ubl.PaymentMeans.CARD.code == "48"


@pytest.mark.parametrize(
    "changes",
    [
        {"issued_at": ISSUED_AT.replace(tzinfo=None)},
        {"counter": 0},
        {"kind": ubl.Kind.CREDIT_NOTE},
        {"kind": ubl.Kind.CREDIT_NOTE, "billing_reference": "INV-1"},
        {"lines": (ubl.Line("Gift", 100, 0),)},
    ],
)
def test_documents_the_builder_refuses(changes):
    with pytest.raises(ValueError):
        make_document(**changes)


def test_parse_refuses_entities():
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert "root" not in (ubl.parse(evil).text or "")
    assert make_document().timestamp == "2026-03-01T18:30:05Z"
    assert isinstance(make_document().uuid, uuid.UUID)
