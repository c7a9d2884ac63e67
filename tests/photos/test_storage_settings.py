"""Where photo files go is chosen by the environment: local files by default, an S3 bucket on request."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_STORAGE = (
    "import json; from config import settings; print(json.dumps(settings.STORAGES['default'], default=str))"
)


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": "postgres://localhost/x",
        "REDIS_URL": "redis://localhost:6379/0",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-c", PRINT_STORAGE], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_local_files_by_default(tmp_path):
    result = settings_with(tmp_path)
    assert json.loads(result.stdout)["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_s3_needs_boto3_and_a_bucket(tmp_path):
    result = settings_with(tmp_path, STORAGE_BACKEND="s3", AWS_STORAGE_BUCKET_NAME="photos")
    assert result.returncode != 0 and "requirements/s3.txt" in result.stderr
    (tmp_path / "boto3").mkdir()
    (tmp_path / "boto3" / "__init__.py").write_text("")  # stands in for the real package
    result = settings_with(
        tmp_path,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="photos",
        AWS_S3_ENDPOINT_URL="https://s3.example.test",
        AWS_S3_CUSTOM_DOMAIN="cdn.example.test",
        PYTHONPATH=str(tmp_path),
    )
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "photos"
    assert storage["OPTIONS"]["custom_domain"] == "cdn.example.test"
    assert storage["OPTIONS"]["querystring_auth"] is False


def test_an_unknown_storage_backend_is_refused(tmp_path):
    result = settings_with(tmp_path, STORAGE_BACKEND="ftp")
    assert result.returncode != 0 and "STORAGE_BACKEND must be local or s3" in result.stderr
