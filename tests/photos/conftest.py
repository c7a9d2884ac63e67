import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.support.factories import client_for, make_service, make_staff


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every photo test writes to its own empty MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def staff(salon):
    return make_staff(salon, services=[make_service(salon)])


@pytest.fixture
def manager_client(manager):
    return client_for(manager)


def image_bytes(image_format: str, size=(64, 48), mode="RGB", color="teal", **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, image_format, **options)
    return buffer.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (24.0, 42.0, 36.0), "E", (46.0, 40.0, 12.0)
    return exif


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
