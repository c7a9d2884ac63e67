"""ZATCA's phase-2 QR code: base64 of TLV fields (1 tag byte, 1 length byte, the value), tags 1-9.

Tags 1-5 (seller name, VAT number, ISO timestamp, total with VAT, VAT total) are UTF-8 text; 6 is the
invoice hash as base64 text; 7 the signature as base64 text; 8 the DER SubjectPublicKeyInfo of the
certificate's key (88 bytes on secp256k1); 9 (simplified documents) the raw DER of the CA's signature on
the certificate. A length is one byte, so a value over 255 bytes is refused (`QrError`), never truncated.
The published signed sample in tests/einvoicing/fixtures carries exactly this layout.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import segno

MAX_VALUE_BYTES = 255
TEXT_TAGS = (1, 2, 3, 4, 5, 6, 7)


class QrError(ValueError):
    pass


@dataclass(frozen=True)
class QrData:
    seller_name: str
    vat_number: str
    timestamp: str
    total: str  # SAR with VAT, "115.00"
    vat_total: str  # "15.00"
    invoice_hash: str  # base64
    signature: str  # base64
    public_key: bytes  # DER SubjectPublicKeyInfo
    certificate_signature: bytes | None  # DER; simplified documents only

    def fields(self) -> list[tuple[int, bytes]]:
        texts = (
            self.seller_name,
            self.vat_number,
            self.timestamp,
            self.total,
            self.vat_total,
            self.invoice_hash,
            self.signature,
        )
        fields = [(tag, text.encode()) for tag, text in zip(TEXT_TAGS, texts, strict=True)]
        fields.append((8, self.public_key))
        if self.certificate_signature is not None:
            fields.append((9, self.certificate_signature))
        return fields


def encode_tlv(fields: list[tuple[int, bytes]]) -> str:
    out = bytearray()
    for tag, value in fields:
        if len(value) > MAX_VALUE_BYTES:
            raise QrError(f"QR tag {tag} is {len(value)} bytes; a TLV value holds at most 255")
        out += bytes([tag, len(value)]) + value
    return base64.b64encode(bytes(out)).decode()


def decode_tlv(qr: str) -> dict[int, bytes]:
    try:
        raw = base64.b64decode(qr, validate=True)
    except (binascii.Error, ValueError) as error:
        raise QrError("the QR is not base64") from error
    fields: dict[int, bytes] = {}
    position = 0
    while position < len(raw):
        if position + 2 > len(raw):
            raise QrError("the QR ends inside a tag")
        tag, length = raw[position], raw[position + 1]
        value = raw[position + 2 : position + 2 + length]
        if len(value) != length:
            raise QrError(f"QR tag {tag} is cut short")
        if tag in fields:
            raise QrError(f"QR tag {tag} appears twice")
        fields[tag] = value
        position += 2 + length
    return fields


def encode(data: QrData) -> str:
    return encode_tlv(data.fields())


def decode(qr: str) -> QrData:
    fields = decode_tlv(qr)
    missing = [tag for tag in (*TEXT_TAGS, 8) if tag not in fields]
    if missing:
        raise QrError(f"the QR lacks tag(s) {missing}")
    try:
        texts = [fields[tag].decode("utf-8") for tag in TEXT_TAGS]
    except UnicodeDecodeError as error:
        raise QrError("a text tag of the QR is not UTF-8") from error
    return QrData(*texts, public_key=fields[8], certificate_signature=fields.get(9))


def image_data_uri(qr: str, *, kind: str = "svg", scale: int = 4) -> str:
    """The QR as a data URI for a receipt (``kind``: ``svg`` or ``png``); error correction M."""
    code = segno.make(qr, error="m", micro=False)
    return code.svg_data_uri(scale=scale) if kind == "svg" else code.png_data_uri(scale=scale)
