"""The API's one throttle (backend/core/throttling.py): anonymous callers per client address, users per
user, one Redis round trip a request, nothing written by a refusal, fail open without Redis."""

import pytest
from rest_framework.views import APIView

from backend.core.throttling import AnonRateThrottle, UserRateThrottle

pytestmark = pytest.mark.django_db

CATALOG = "/api/v1/salons/"


@pytest.fixture(autouse=True)
def throttled(monkeypatch, settings):
    """The production throttle on every API view (test settings turn it off), at the default rates."""
    monkeypatch.setattr(APIView, "throttle_classes", [AnonRateThrottle, UserRateThrottle])
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
    }
    settings.API_NUM_PROXIES = None
    settings.API_TRUSTED_PROXIES = []


def rates(settings, anon: str, user: str = "600/min") -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
    }


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert response["Retry-After"] == str(error["retry_after"])
    return error["retry_after"]


def test_one_anonymous_client_rotating_x_forwarded_for_is_refused_after_the_anonymous_rate(api_client):
    """The audit's 125 catalogue reads, each with a new forwarded address, no proxy configured."""
    statuses = [
        api_client.get(CATALOG, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.0.{i // 256}.{i % 256}")
        for i in range(125)
    ]
    assert [response.status_code for response in statuses].count(200) == 120
    assert 55 <= assert_throttled(statuses[-1]) <= 60
    assert api_client.get(CATALOG, REMOTE_ADDR="198.51.100.8").status_code == 200  # another client
