"""Production's static files storage (hashed names from collectstatic's manifest) never turns a missing
manifest entry into a 500: a deploy whose static files were never collected still serves /api/docs/ and the
admin, with plain asset URLs and a warning naming the fix."""

import json
import logging

import pytest
from django.conf import settings as django_settings
from django.test import Client

from config.settings import STORAGES as PRODUCTION_STORAGES

SWAGGER_CSS = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"


@pytest.fixture
def production_static(settings, tmp_path):
    """The storage config/settings.py picks when DEBUG is off, on a STATIC_ROOT collectstatic never filled,
    served by whitenoise from STATIC_ROOT only (as in production)."""
    assert PRODUCTION_STORAGES["staticfiles"]["BACKEND"] == (
        "backend.core.staticfiles.ForgivingManifestStaticFilesStorage"
    )
    settings.DEBUG = False
    settings.STORAGES = {**django_settings.STORAGES, "staticfiles": PRODUCTION_STORAGES["staticfiles"]}
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    return tmp_path


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/admin/login/"])
def test_pages_with_assets_answer_200_without_collected_static_files(production_static, path, caplog):
    caplog.set_level(logging.WARNING, logger="backend.core.staticfiles")
    response = Client().get(path)
    assert response.status_code == 200
    assert "missing from the manifest: run collectstatic" in caplog.text
    if path == "/api/docs/":
        assert f"/static/{SWAGGER_CSS}" in response.content.decode()  # the plain name, not a hashed one


@pytest.mark.django_db
def test_a_collected_file_is_served_under_its_hashed_name(production_static, caplog):
    hashed = SWAGGER_CSS.replace(".css", ".0123456789ab.css")
    (production_static / "staticfiles.json").write_text(
        json.dumps({"paths": {SWAGGER_CSS: hashed}, "version": "1.1", "hash": "x"})
    )
    target = production_static / hashed
    target.parent.mkdir(parents=True)
    target.write_text("body {}")
    page = Client().get("/api/docs/").content.decode()
    assert f"/static/{hashed}" in page
    assert f"{SWAGGER_CSS} is missing" not in caplog.text  # only the files the manifest lacks warn
    asset = Client().get(f"/static/{hashed}")
    assert asset.status_code == 200 and b"".join(asset.streaming_content) == b"body {}"
