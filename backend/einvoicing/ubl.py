"""UBL 2.1 XML of ZATCA's simplified documents, built with lxml from plain dataclasses.

A simplified tax invoice (388), credit note (381) or debit note (383), ``InvoiceTypeCode name="0200000"``,
always with the ``Invoice`` root as ZATCA's samples do. The element order is the one of providers.md
("XML (UBL 2.1)"), which is UBL's schema order; ``cac:BillingReference`` (credit and debit notes) sits where
the schema puts it, before the ``AdditionalDocumentReference`` elements.

`build` returns the document without ``ext:UBLExtensions`` and the QR reference: both are outside the
invoice hash and are added by `backend.einvoicing.signing.sign_document`. ``cac:Signature`` is static and
is already there. Lines are VAT-inclusive prices split by `backend.einvoicing.vat` (quantity 1 each: a
service, a tip). Times are written in UTC: ``IssueTime`` ``HH:MM:SS`` and the QR's ``…Z`` timestamp agree.
"""

from __future__ import annotations

import enum
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree

from backend.einvoicing import vat

NS = {
    None: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
}
XPATH_NS = {prefix: uri for prefix, uri in NS.items() if prefix} | {"inv": NS[None]}
CURRENCY = "SAR"
SIMPLIFIED = "0200000"  # "02" simplified; the other five flags off (BR-KSA-06)
SIGNATURE_ID = "urn:oasis:names:specification:ubl:signature:Invoice"
SIGNATURE_METHOD = "urn:oasis:names:specification:ubl:dsig:enveloped:xades"


class Kind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    DEBIT_NOTE = "debit_note"


TYPE_CODES = {Kind.INVOICE: "388", Kind.CREDIT_NOTE: "381", Kind.DEBIT_NOTE: "383"}


class PaymentMeans(enum.StrEnum):
    """Our payment methods and their UN/CEFACT 4461 codes: 10 "In cash", 48 "Bank card" (mada is a
    debit card scheme; 4461's 54/55 would split credit and debit cards, which a terminal slip does not)."""

    CASH = "cash"
    CARD = "card"
    MADA = "mada"

    @property
    def code(self) -> str:
        return "10" if self is PaymentMeans.CASH else "48"


@dataclass(frozen=True)
class Address:
    street: str
    building: str
    district: str
    city: str
    postal_code: str
    country: str = "SA"


@dataclass(frozen=True)
class SellerProfile:
    legal_name: str
    vat_number: str
    cr_number: str
    address: Address


@dataclass(frozen=True)
class Line:
    name: str
    inclusive_halalas: int  # VAT included
    vat_rate_percent: Decimal | int | str = vat.DEFAULT_VAT_RATE_PERCENT


@dataclass(frozen=True)
class Document:
    kind: Kind
    number: str  # cbc:ID, the salon's document number
    uuid: uuid_module.UUID
    issued_at: datetime  # aware
    counter: int  # ICV: 1, 2, 3... per unit, without gaps
    previous_hash: str  # PIH: the previous document's invoice hash (FIRST_PIH for the first)
    seller: SellerProfile
    lines: tuple[Line, ...]
    payment_means: PaymentMeans
    billing_reference: str | None = None  # credit/debit notes: the original invoice's number
    reason: str | None = None  # credit/debit notes: why (cac:PaymentMeans/cbc:InstructionNote)
    totals: vat.Totals = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        if self.counter < 1:
            raise ValueError("the invoice counter starts at 1")
        if self.kind is not Kind.INVOICE and not (self.billing_reference and self.reason):
            raise ValueError("a credit or debit note needs the original invoice number and a reason")
        amounts = [vat.split_line(line.inclusive_halalas, line.vat_rate_percent) for line in self.lines]
        if any(amount.rate == 0 for amount in amounts):
            raise ValueError("zero-rated and exempt lines need an exemption reason code: not supported")
        object.__setattr__(self, "totals", vat.totals(amounts))

    @property
    def issued_utc(self) -> datetime:
        return self.issued_at.astimezone(UTC).replace(microsecond=0)

    @property
    def timestamp(self) -> str:
        """The QR's tag 3: the issue date and time, ISO 8601 in UTC."""
        return self.issued_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _qname(tag: str) -> str:
    prefix, _, name = tag.rpartition(":")
    return f"{{{NS[prefix or None]}}}{name}"


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, _qname(tag), {name: value for name, value in attributes.items()})
    if text is not None:
        element.text = text
    return element


def _amount(parent: etree._Element, tag: str, halalas: int) -> None:
    _add(parent, tag, vat.sar(halalas), currencyID=CURRENCY)


def _tax_category(parent: etree._Element, tag: str, rate: Decimal) -> None:
    category = _add(parent, tag)
    _add(category, "cbc:ID", "S", schemeID="UN/ECE 5305", schemeAgencyID="6")
    _add(category, "cbc:Percent", vat.percent_text(rate))
    scheme = _add(category, "cac:TaxScheme")
    _add(scheme, "cbc:ID", "VAT", schemeID="UN/ECE 5153", schemeAgencyID="6")


def _reference(
    parent: etree._Element, name: str, *, uuid: str | None = None, text: str | None = None
) -> None:
    reference = _add(parent, "cac:AdditionalDocumentReference")
    _add(reference, "cbc:ID", name)
    if uuid is not None:
        _add(reference, "cbc:UUID", uuid)
    else:
        attachment = _add(reference, "cac:Attachment")
        _add(attachment, "cbc:EmbeddedDocumentBinaryObject", text, mimeCode="text/plain")


def qr_reference(qr: str) -> etree._Element:
    """The ``AdditionalDocumentReference`` of the QR code; signing inserts it after PIH."""
    holder = etree.Element(_qname("Invoice"), nsmap=NS)
    _reference(holder, "QR", text=qr)
    return holder[0]


def _supplier(root: etree._Element, seller: SellerProfile) -> None:
    party = _add(_add(root, "cac:AccountingSupplierParty"), "cac:Party")
    _add(_add(party, "cac:PartyIdentification"), "cbc:ID", seller.cr_number, schemeID="CRN")
    address = _add(party, "cac:PostalAddress")
    _add(address, "cbc:StreetName", seller.address.street)
    _add(address, "cbc:BuildingNumber", seller.address.building)
    _add(address, "cbc:CitySubdivisionName", seller.address.district)
    _add(address, "cbc:CityName", seller.address.city)
    _add(address, "cbc:PostalZone", seller.address.postal_code)
    _add(_add(address, "cac:Country"), "cbc:IdentificationCode", seller.address.country)
    tax_scheme = _add(party, "cac:PartyTaxScheme")
    _add(tax_scheme, "cbc:CompanyID", seller.vat_number)
    _add(_add(tax_scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    _add(_add(party, "cac:PartyLegalEntity"), "cbc:RegistrationName", seller.legal_name)


def _totals(root: etree._Element, totals: vat.Totals) -> None:
    with_breakdown = _add(root, "cac:TaxTotal")
    _amount(with_breakdown, "cbc:TaxAmount", totals.vat)
    for rate in totals.by_rate:
        subtotal = _add(with_breakdown, "cac:TaxSubtotal")
        _amount(subtotal, "cbc:TaxableAmount", rate.exclusive)
        _amount(subtotal, "cbc:TaxAmount", rate.vat)
        _tax_category(subtotal, "cac:TaxCategory", rate.rate)
    _amount(_add(root, "cac:TaxTotal"), "cbc:TaxAmount", totals.vat)  # the VAT in the tax currency (SAR)
    monetary = _add(root, "cac:LegalMonetaryTotal")
    _amount(monetary, "cbc:LineExtensionAmount", totals.exclusive)
    _amount(monetary, "cbc:TaxExclusiveAmount", totals.exclusive)
    _amount(monetary, "cbc:TaxInclusiveAmount", totals.inclusive)
    _amount(monetary, "cbc:AllowanceTotalAmount", 0)
    _amount(monetary, "cbc:PrepaidAmount", 0)
    _amount(monetary, "cbc:PayableAmount", totals.inclusive)


def _lines(root: etree._Element, document: Document) -> None:
    for index, (line, amounts) in enumerate(zip(document.lines, document.totals.lines, strict=True), 1):
        element = _add(root, "cac:InvoiceLine")
        _add(element, "cbc:ID", str(index))
        _add(element, "cbc:InvoicedQuantity", "1.00", unitCode="PCE")
        _amount(element, "cbc:LineExtensionAmount", amounts.exclusive)
        tax_total = _add(element, "cac:TaxTotal")
        _amount(tax_total, "cbc:TaxAmount", amounts.vat)
        _amount(tax_total, "cbc:RoundingAmount", amounts.inclusive)
        item = _add(element, "cac:Item")
        _add(item, "cbc:Name", line.name)
        _tax_category(item, "cac:ClassifiedTaxCategory", amounts.rate)
        _amount(_add(element, "cac:Price"), "cbc:PriceAmount", amounts.exclusive)


def build(document: Document) -> etree._Element:
    """The unsigned document (no UBLExtensions, no QR): what the invoice hash covers."""
    root = etree.Element(_qname("Invoice"), nsmap=NS)
    _add(root, "cbc:ProfileID", "reporting:1.0")
    _add(root, "cbc:ID", document.number)
    _add(root, "cbc:UUID", str(document.uuid))
    _add(root, "cbc:IssueDate", document.issued_utc.strftime("%Y-%m-%d"))
    _add(root, "cbc:IssueTime", document.issued_utc.strftime("%H:%M:%S"))
    _add(root, "cbc:InvoiceTypeCode", TYPE_CODES[document.kind], name=SIMPLIFIED)
    _add(root, "cbc:DocumentCurrencyCode", CURRENCY)
    _add(root, "cbc:TaxCurrencyCode", CURRENCY)
    if document.billing_reference:
        reference = _add(_add(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _add(reference, "cbc:ID", document.billing_reference)
    _reference(root, "ICV", uuid=str(document.counter))
    _reference(root, "PIH", text=document.previous_hash)
    signature = _add(root, "cac:Signature")
    _add(signature, "cbc:ID", SIGNATURE_ID)
    _add(signature, "cbc:SignatureMethod", SIGNATURE_METHOD)
    _supplier(root, document.seller)
    _add(root, "cac:AccountingCustomerParty")  # simplified (B2C): the buyer stays anonymous
    means = _add(root, "cac:PaymentMeans")
    _add(means, "cbc:PaymentMeansCode", document.payment_means.code)
    if document.reason:
        _add(means, "cbc:InstructionNote", document.reason)
    _totals(root, document.totals)
    _lines(root, document)
    return root


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def parse(data: bytes) -> etree._Element:
    """Parses a document safely: no entities, no network, no huge trees."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)
    return etree.fromstring(data, parser)
