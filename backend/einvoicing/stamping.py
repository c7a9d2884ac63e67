"""Stamping issued documents (the XAdES signature and the QR), after the payment's transaction.

The chain is fixed at issue, under the unit's row lock: counter, PIH and the invoice hash. The hash does
not cover the stamp (it excludes UBLExtensions, the QR reference and the signature), so when a document is
stamped changes nothing in the chain, and a stamped document is checked to hash to the hash it was issued
with (StampMismatch otherwise: never reported, never shown). Issuing therefore leaves the stamp out of the
payment (docs/adr/0011-einvoicing-wiring.md): the reporter stamps each waiting document, in chain order,
before it reports it, and the first read that shows a document of an onboarded unit (a customer's receipt
at the counter, a manager's list) stamps it if the reporter has not yet.

A document is stamped once. The signature is not deterministic (ECDSA's nonce, the signing time), so both
save their stamp only where none is stored and otherwise take the stored one: the XML reported to ZATCA
is the one the customer got, QR included."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from backend.einvoicing import keys, qr, signing, ubl
from backend.einvoicing.models import Document, Unit, UnitStatus

logger = logging.getLogger(__name__)


class StampMismatch(RuntimeError):
    """The signed document's hash is not the one fixed at issue: never report it."""


# What keeps a document from being stamped now: the reporter fails the run, a read shows it unstamped.
STAMP_ERRORS = (keys.KeyMaterialError, ImproperlyConfigured, qr.QrError, StampMismatch)


def signing_identity(unit: Unit) -> signing.SigningIdentity:
    certificate, text = keys.certificate_from_token(unit.production_token)
    return signing.SigningIdentity(
        private_key=keys.decrypt_private_key(unit.private_key), certificate=certificate, certificate_text=text
    )


def document_stamp(document: Document, identity: signing.SigningIdentity) -> None:
    """Signs the stored unsigned XML and keeps the signed bytes as produced, with the QR (not saved)."""
    signed = signing.sign_document(ubl.parse(bytes(document.unsigned_xml)), identity)
    if signed.invoice_hash != document.invoice_hash:
        raise StampMismatch(f"document {document.pk}: the signed hash differs from the issued one")
    document.signed_xml = signed.xml
    document.qr = signed.qr


def document_stamped(document: Document, identity: signing.SigningIdentity) -> Document:
    """The document with its stamp: the stored one, or a new one saved only if none was stored meanwhile
    (if one was, the stored one is taken instead of the new)."""
    if document.signed_xml:
        return document
    document_stamp(document, identity)
    unstamped = Document.objects.filter(pk=document.pk, signed_xml__isnull=True)
    if not unstamped.update(signed_xml=document.signed_xml, qr=document.qr):
        stored = Document.objects.filter(pk=document.pk).values_list("signed_xml", "qr").get()
        document.signed_xml, document.qr = stored
    return document


def documents_stamped_for_reading(documents: Iterable[Document]) -> None:
    """Stamps, in chain order, the documents of onboarded units that the reporter has not stamped yet,
    before they are shown (each document's `unit` loaded with it). A document that cannot be stamped now
    is shown unstamped (`qr` null, the unsigned XML) and logged; the reporter fails on it visibly."""
    identities: dict[int, signing.SigningIdentity] = {}
    for document in sorted(documents, key=lambda one: (one.unit_id, one.counter)):
        if document.signed_xml or document.unit.status != UnitStatus.ONBOARDED:
            continue
        try:
            if document.unit_id not in identities:
                identities[document.unit_id] = signing_identity(document.unit)
            document_stamped(document, identities[document.unit_id])
        except STAMP_ERRORS:
            logger.exception("document %s: not stamped for reading", document.number)


def documents_stamped_in_order(
    unit: Unit, documents: list[Document]
) -> tuple[list[Document], Exception | None]:
    """The reporter's batch, stamped in chain order, the new stamps saved in one transaction (one commit for
    the batch, not one a document). Stops at the first document that cannot be stamped: returns the ones
    before it, to report, and the error, to fail the run with after that."""
    identity: signing.SigningIdentity | None = None
    stamped: list[Document] = []
    with transaction.atomic():
        for document in documents:
            try:
                if not document.signed_xml:
                    identity = identity or signing_identity(unit)
                    document_stamped(document, identity)
            except STAMP_ERRORS as error:
                return stamped, error
            stamped.append(document)
    return stamped, None
