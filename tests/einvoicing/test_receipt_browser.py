"""The printable receipt rendered by a real headless Chromium (Debian's `chromium`): its screenshot holds a
QR that decodes to the document's QR data, and Arabic text really drawn (shaped glyphs, not missing-glyph
boxes), right-aligned in the Arabic column."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from backend.einvoicing.models import Document
from backend.einvoicing.receipts import receipt_html
from backend.einvoicing.stamping import documents_stamped_for_reading
from tests.einvoicing.wiring import make_paid_payment, make_tax_profile, onboard

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 900, 1400
ARABIC = re.compile(r"[\u0600-\u06FF]+")


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium before the tests")
        pytest.skip("chromium is not installed here (apt-get install chromium); CI installs and runs it")
    return CHROMIUM


def shoot(chromium: str, html: str, directory: Path, name: str) -> Image.Image:
    page, shot = directory / f"{name}.html", directory / f"{name}.png"
    page.write_text(html, encoding="utf-8")
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={directory / 'profile'}",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return Image.open(shot).convert("L")


def ink_box(image: Image.Image, other: Image.Image):
    """The bounding box of the pixels where two renders differ (None: identical)."""
    return ImageChops.difference(image, other).point(lambda value: 255 if value > 40 else 0).getbbox()


@pytest.fixture
def document(booking, fatoora):
    make_tax_profile(booking.salon)
    onboard(booking.salon)
    make_paid_payment(booking)
    document = Document.objects.select_related("unit__salon").get()
    documents_stamped_for_reading([document])  # as the receipt's view does before rendering it
    assert document.qr
    return document


def test_the_receipt_shows_a_readable_qr_and_arabic_text(chromium, document, tmp_path):
    import zxingcpp

    html = receipt_html(document)
    receipt = shoot(chromium, html, tmp_path, "receipt")
    assert receipt.size == (WIDTH, HEIGHT)

    # The QR as the browser drew it decodes to the document's QR data (base64 TLV, ZATCA tags 1-9).
    codes = [code for code in zxingcpp.read_barcodes(receipt) if code.format == zxingcpp.BarcodeFormat.QRCode]
    assert [code.text for code in codes] == [document.qr]

    # Arabic is drawn: removing it changes the page, in the Arabic (right-hand, RTL) header column.
    without_arabic = shoot(chromium, ARABIC.sub("", html), tmp_path, "no-arabic")
    _left, top, right, _bottom = ink_box(receipt, without_arabic)
    assert right > WIDTH * 0.6 and top < HEIGHT * 0.2

    # Glyphs are shaped letters, not one missing-glyph box each: the same letters in another order draw
    # differently (boxes would be identical), within the title's area.
    title = "فاتورة ضريبية مبسطة"
    shuffled = shoot(chromium, html.replace(title, title[::-1]), tmp_path, "shuffled")
    box = ink_box(receipt, shuffled)
    assert box is not None and box[2] > WIDTH * 0.6 and box[1] < HEIGHT * 0.1
