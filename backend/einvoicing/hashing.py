"""The invoice hash (KSA-13 / PIH, QR tag 6, the ``invoiceSignedData`` digest), as the signature's
transforms define it:

1. Remove ``ext:UBLExtensions``, ``cac:Signature`` and ``cac:AdditionalDocumentReference[cbc:ID='QR']``.
   The XPath transforms drop those element nodes only: the whitespace text around them stays where it was
   (lxml's ``remove`` would drop an element's tail with it, so the tail is kept by hand).
2. Canonicalize. The signature names C14N 1.1; we use lxml's C14N 1.0 inclusive (``method="c14n"``), as
   Odoo and zatca-tools-sdk do. C14N 1.1 differs from 1.0 only in how ``xml:id``/``xml:base`` and other
   ``xml:`` attributes are inherited into a document *subset*; we canonicalize a whole document with no
   ``xml:`` attributes, where both give the same bytes. C14N 2.0 (lxml's ``method="c14n2"``) is not an
   option: it drops unused namespace declarations, so its bytes differ (tests/einvoicing/test_hashing.py
   shows both against a published signed sample: 1.0 inclusive matches, 2.0 and exclusive do not).
3. SHA-256, and the 32 raw bytes in base64.
"""

from __future__ import annotations

import base64
import copy
import hashlib

from lxml import etree

from backend.einvoicing.ubl import XPATH_NS

# The PIH of a unit's first document: base64 of the hex SHA-256 of "0" (tests check the derivation).
FIRST_PIH = "NWZlY2ViNjZmZmM4NmYzOGQ5NTI3ODZjNmQ2OTZjNzljMmRiYzIzOWRkNGU5MWI0NjcyOWQ3M2EyN2ZiNTdlOQ=="
EXCLUDED = (
    "/inv:Invoice/ext:UBLExtensions",
    "/inv:Invoice/cac:Signature",
    "/inv:Invoice/cac:AdditionalDocumentReference[cbc:ID='QR']",
)


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    previous = element.getprevious()
    tail = element.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def canonical_bytes(root: etree._Element) -> bytes:
    """The bytes the invoice hash covers: a copy of the document without the three parts, C14N 1.0."""
    document = copy.deepcopy(root)
    for path in EXCLUDED:
        for element in document.xpath(path, namespaces=XPATH_NS):
            _remove_keeping_tail(element)
    return etree.tostring(document, method="c14n", exclusive=False, with_comments=False)


def invoice_digest(root: etree._Element) -> bytes:
    return hashlib.sha256(canonical_bytes(root)).digest()


def invoice_hash(root: etree._Element) -> str:
    return base64.b64encode(invoice_digest(root)).decode()
