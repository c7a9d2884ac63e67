"""Static files storage of production: whitenoise's compressed, hashed (manifest) storage, except that a file
missing from the manifest is a warning and its plain URL, never an exception. Django's manifest storage
raises on every `{% static %}` of a file the manifest does not list, so a deploy whose static files were
never collected answered 500 on /api/docs/ and the admin instead of pages with a missing stylesheet."""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ForgivingManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            # Only pages ask for stored names; collectstatic hashes through _stored_name and still fails
            # loudly on a broken reference.
            logger.warning("static file %s is missing from the manifest: run collectstatic", name)
            return name
