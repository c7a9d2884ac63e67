from django.apps import AppConfig
from django.conf import settings


class PhotosConfig(AppConfig):
    name = "backend.photos"
    label = "photos"

    def ready(self) -> None:
        from PIL import Image

        # Pillow's own decompression-bomb guard, at our limit: it warns above it and refuses above twice
        # it, before decoding anything (backend/photos/images.py turns both into a 400).
        Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS
