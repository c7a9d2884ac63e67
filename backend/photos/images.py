"""Untrusted image bytes in, clean image bytes out (Pillow).

An upload is accepted only if Pillow decodes it fully as JPEG, PNG or WebP within PHOTO_MAX_BYTES and
PHOTO_MAX_PIXELS; it is then re-encoded from its pixels, which drops EXIF (GPS, camera serials), XMP,
comments and anything appended after the image. The EXIF orientation is applied first, so a photo taken
sideways still shows upright once its EXIF is gone."""

import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from backend.core.errors import ApplicationError

# Pillow format -> file extension. GIF (animation, palette tricks) and SVG (script) are not photos.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# Modes each encoder writes as they are; anything else is converted first.
_SAVABLE_MODES = {
    "JPEG": ("L", "RGB", "CMYK"),
    "PNG": ("1", "L", "LA", "P", "RGB", "RGBA"),
    "WEBP": ("RGB", "RGBA"),
}
JPEG_QUALITY = 85
THUMBNAIL_SIZE = 480  # px, the longer side: a list cell on a 3x phone screen


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    extension: str
    width: int
    height: int


def _invalid() -> ApplicationError:
    return ApplicationError("photo_invalid", _("The file must be a JPEG, PNG or WebP image."))


def _too_many_pixels() -> ApplicationError:
    return ApplicationError(
        "photo_too_many_pixels",
        _("The image has too many pixels (at most %(megapixels)d megapixels).")
        % {"megapixels": settings.PHOTO_MAX_PIXELS // 1_000_000},
    )


def _encodable(image: Image.Image, image_format: str) -> Image.Image:
    if image.mode in _SAVABLE_MODES[image_format]:
        return image
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha and image_format != "JPEG" else "RGB")


def _encode(image: Image.Image, image_format: str) -> bytes:
    # Nothing of the original's metadata is passed on; only the colour profile, which is not personal
    # and without which colours shift.
    options = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
    if image_format == "JPEG":
        options |= {"quality": JPEG_QUALITY, "optimize": True}
    elif image_format == "WEBP":
        options |= {"quality": JPEG_QUALITY}
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def image_clean(*, upload: IO[bytes], size: int) -> CleanImage:
    """The upload decoded, checked and re-encoded in its own format; ApplicationError (400) otherwise."""
    if size > settings.PHOTO_MAX_BYTES:
        raise ApplicationError(
            "photo_too_large",
            _("The file is too large (at most %(megabytes)d MB).")
            % {"megabytes": settings.PHOTO_MAX_BYTES // 1_000_000},
        )
    try:
        with Image.open(upload, formats=tuple(FORMATS)) as probe:
            width, height = probe.size
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise _too_many_pixels()
            probe.verify()  # checksums and structure, without decoding pixels
        upload.seek(0)
        with Image.open(upload, formats=tuple(FORMATS)) as image:
            image.load()  # a truncated or corrupt stream fails here, not later in a worker
            image_format = image.format
            upright = ImageOps.exif_transpose(image)
            content = _encode(_encodable(upright, image_format), image_format)
    except ApplicationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except Exception as error:
        # Hostile or broken bytes make Pillow raise many types (OSError, SyntaxError, ValueError, ...);
        # each means the same to the client: not an image we take.
        raise _invalid() from error
    return CleanImage(content, FORMATS[image_format], upright.width, upright.height)


def thumbnail_make(*, source: IO[bytes]) -> bytes:
    """A WebP at most THUMBNAIL_SIZE px on its longer side, from an image image_clean already accepted."""
    with Image.open(source, formats=tuple(FORMATS)) as image:
        image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        return _encode(_encodable(image, "WEBP"), "WEBP")
