"""The printable bilingual receipt of a document (Arabic right-to-left and English side by side): the
seller's tax details as the document states them (read from its XML, not from today's profile), the
lines, the VAT breakdown and the QR image."""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string

from backend.einvoicing import qr, ubl, vat
from backend.einvoicing.models import Document, DocumentKind

TITLES = {
    DocumentKind.INVOICE: ("فاتورة ضريبية مبسطة", "Simplified Tax Invoice"),
    DocumentKind.CREDIT_NOTE: ("إشعار دائن", "Credit Note"),
}
SUPPLIER = "/inv:Invoice/cac:AccountingSupplierParty/cac:Party"
SELLER_PATHS = {
    "legal_name": f"{SUPPLIER}/cac:PartyLegalEntity/cbc:RegistrationName",
    "vat_number": f"{SUPPLIER}/cac:PartyTaxScheme/cbc:CompanyID",
    "cr_number": f"{SUPPLIER}/cac:PartyIdentification/cbc:ID",
    "street": f"{SUPPLIER}/cac:PostalAddress/cbc:StreetName",
    "building": f"{SUPPLIER}/cac:PostalAddress/cbc:BuildingNumber",
    "district": f"{SUPPLIER}/cac:PostalAddress/cbc:CitySubdivisionName",
    "city": f"{SUPPLIER}/cac:PostalAddress/cbc:CityName",
    "postal_code": f"{SUPPLIER}/cac:PostalAddress/cbc:PostalZone",
}


def _seller(document: Document) -> dict[str, str]:
    root = ubl.parse(bytes(document.unsigned_xml))
    return {
        name: root.xpath(f"string({path})", namespaces=ubl.XPATH_NS) for name, path in SELLER_PATHS.items()
    }


def receipt_context(document: Document) -> dict:
    lines = [
        {
            "name": line["name"],
            "exclusive": vat.sar(line["exclusive"]),
            "vat": vat.sar(line["vat"]),
            "inclusive": vat.sar(line["inclusive"]),
            "rate": vat.percent_text(Decimal(line["rate"])),
        }
        for line in document.lines
    ]
    breakdown: dict[str, list[int]] = {}
    for line in document.lines:
        sums = breakdown.setdefault(vat.percent_text(Decimal(line["rate"])), [0, 0])
        sums[0] += line["exclusive"]
        sums[1] += line["vat"]
    title_ar, title_en = TITLES[DocumentKind(document.kind)]
    local = document.issued_at.astimezone(document.unit.salon.tz)
    return {
        "document": document,
        "title_ar": title_ar,
        "title_en": title_en,
        "seller": _seller(document),
        "issued": local.strftime("%Y-%m-%d %H:%M"),
        "lines": lines,
        "breakdown": [
            {"rate": rate, "taxable": vat.sar(taxable), "vat": vat.sar(tax)}
            for rate, (taxable, tax) in breakdown.items()
        ],
        "exclusive": vat.sar(document.total_halalas - document.vat_halalas),
        "vat": vat.sar(document.vat_halalas),
        "total": vat.sar(document.total_halalas),
        "qr_image": qr.image_data_uri(document.qr, kind="svg", scale=4) if document.qr else "",
    }


def receipt_html(document: Document) -> str:
    return render_to_string("einvoicing/receipt.html", receipt_context(document))
