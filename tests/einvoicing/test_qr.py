import base64

import pytest

from backend.einvoicing import qr

DATA = qr.QrData(
    seller_name="صالون",
    vat_number="310122393500003",
    timestamp="2026-03-01T18:30:05Z",
    total="182.50",
    vat_total="23.80",
    invoice_hash="a" * 44,
    signature="b" * 96,
    public_key=b"\x30" * 88,
    certificate_signature=b"\x30" * 71,
)


def test_round_trip_and_layout():
    code = qr.encode(DATA)
    assert qr.decode(code) == DATA
    raw = base64.b64decode(code)
    assert raw[:2] == bytes([1, len("صالون".encode())])  # the length counts bytes, not characters
    fields = qr.decode_tlv(code)
    assert sorted(fields) == list(range(1, 10))


def test_without_tag_9():
    data = qr.QrData(**{**DATA.__dict__, "certificate_signature": None})
    assert 9 not in qr.decode_tlv(qr.encode(data))
    assert qr.decode(qr.encode(data)).certificate_signature is None


def test_values_over_255_bytes_are_refused():
    with pytest.raises(qr.QrError, match="tag 1 is 256 bytes"):
        qr.encode(qr.QrData(**{**DATA.__dict__, "seller_name": "x" * 256}))
    assert qr.encode_tlv([(1, b"x" * 255)])


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"\x01").decode(), "ends inside a tag"),
        (base64.b64encode(b"\x01\x05ab").decode(), "cut short"),
        (base64.b64encode(b"\x01\x01a\x01\x01b").decode(), "twice"),
        (base64.b64encode(b"\x01\x01a").decode(), "lacks tag"),
        (qr.encode_tlv([(tag, b"\xff") for tag in range(1, 9)]), "not UTF-8"),
    ],
)
def test_bad_codes_are_refused(code, message):
    with pytest.raises(qr.QrError, match=message):
        qr.decode(code)


def test_images():
    code = qr.encode(DATA)
    assert qr.image_data_uri(code).startswith("data:image/svg+xml")
    png = qr.image_data_uri(code, kind="png")
    assert png.startswith("data:image/png;base64,")
    assert base64.b64decode(png.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
