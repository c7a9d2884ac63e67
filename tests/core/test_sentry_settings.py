"""Sentry is optional: with SENTRY_DSN the settings start it (Django and Celery integrations, no personal
data); without it nothing is initialised."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_SENTRY = """
import json
import sentry_sdk
from config import settings
client = sentry_sdk.get_client()
print(json.dumps({
    "active": client.is_active(),
    "dsn": client.dsn,
    "options": {
        key: client.options.get(key) for key in ("environment", "send_default_pii", "traces_sample_rate")
    },
    "integrations": sorted(getattr(client, "integrations", {})),
}))
"""


def settings_with(**env: str) -> dict:
    base = {
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": "postgres://localhost/x",
        "REDIS_URL": "redis://localhost:6379/0",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SENTRY], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_is_initialised_without_a_dsn():
    assert settings_with()["active"] is False


def test_a_dsn_starts_sentry_with_django_and_celery_and_no_personal_data():
    sentry = settings_with(
        SENTRY_DSN="https://public@sentry.example.test/1",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="0.1",
    )
    assert sentry["active"] is True
    assert sentry["dsn"] == "https://public@sentry.example.test/1"
    assert sentry["options"] == {
        "environment": "staging",
        "send_default_pii": False,
        "traces_sample_rate": 0.1,
    }
    assert {"django", "celery"} <= set(sentry["integrations"])


def test_traces_are_off_by_default():
    sentry = settings_with(SENTRY_DSN="https://public@sentry.example.test/1")
    assert sentry["options"]["traces_sample_rate"] == 0.0
    assert sentry["options"]["environment"] == "production"
