from collections.abc import Iterator

import pytest

from backend.accounts.identity_tokens import jwks_clients_forget
from backend.fakes import FakeAuthentica, FakeJwks, FakeUnifonic
from backend.fakes.jwks import DEFAULT_CLIENT_IDS

AUTHENTICA_KEY = "authentica-key-under-test"
UNIFONIC_APP_SID = "unifonic-appsid-under-test"


@pytest.fixture
def authentica(settings) -> Iterator[FakeAuthentica]:
    """OTP_PROVIDER=authentica, talking over HTTP to a fake Authentica on an ephemeral port."""
    with FakeAuthentica(api_key=AUTHENTICA_KEY) as fake:
        settings.OTP_PROVIDER = "authentica"
        settings.AUTHENTICA_BASE_URL = fake.url
        settings.AUTHENTICA_API_KEY = AUTHENTICA_KEY
        yield fake


@pytest.fixture
def unifonic(settings) -> Iterator[FakeUnifonic]:
    """OTP_PROVIDER=unifonic, talking over HTTP to a fake Unifonic on an ephemeral port."""
    with FakeUnifonic(app_sid=UNIFONIC_APP_SID) as fake:
        settings.OTP_PROVIDER = "unifonic"
        settings.UNIFONIC_BASE_URL = fake.url
        settings.UNIFONIC_APP_SID = UNIFONIC_APP_SID
        settings.UNIFONIC_SENDER_ID = "Salon"
        yield fake


@pytest.fixture
def next_codes(monkeypatch):
    """next_codes("111111", "222222"): the codes the next OTP requests generate, in order."""

    def set_codes(*codes: str) -> None:
        pending = iter(codes)
        monkeypatch.setattr("backend.accounts.services._otp_code_generate", lambda: next(pending))

    return set_codes


@pytest.fixture
def jwks(settings) -> Iterator[FakeJwks]:
    """Sign in with Apple and Google against a fake key issuer on an ephemeral port; the process's key
    cache starts empty, and an unknown key id refetches at once (no cooldown)."""
    with FakeJwks() as fake:
        settings.APPLE_JWKS_URL = fake.apple_jwks_url
        settings.GOOGLE_JWKS_URL = fake.google_jwks_url
        settings.APPLE_CLIENT_IDS = ["another.app", DEFAULT_CLIENT_IDS["apple"]]
        settings.GOOGLE_CLIENT_IDS = [DEFAULT_CLIENT_IDS["google"]]
        settings.SOCIAL_JWKS_REFRESH_COOLDOWN_SECONDS = 0
        settings.SOCIAL_JWKS_TIMEOUT_SECONDS = 2
        jwks_clients_forget()
        yield fake
        jwks_clients_forget()
