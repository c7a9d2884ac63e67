from django.apps import AppConfig
from django.conf import settings


class PhotosConfig(AppConfig):
    name = "backend.photos"
    label = "photos"

    def ready(self) -> None:
        from PIL import Image

        from backend.photos.selectors import salon_photos_prefetch, staff_photos_prefetch
        from backend.photos.serializers import (
            salon_cover_url_field,
            salon_gallery_field,
            staff_avatar_url_field,
        )
        from backend.salons.extensions import register_catalog_prefetch, register_field

        # The catalog's covers, galleries and avatars: salons shows them without importing photos.
        register_field("salon", "cover_url", salon_cover_url_field)
        register_field("salon", "gallery", salon_gallery_field)
        register_field("staff", "avatar_url", staff_avatar_url_field)
        register_catalog_prefetch("salon", salon_photos_prefetch)
        register_catalog_prefetch("staff", staff_photos_prefetch)

        # Pillow's own decompression-bomb guard, at our limit: it warns above it and refuses above twice
        # it, before decoding anything (backend/photos/images.py turns both into a 400).
        Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS
