from collections.abc import Iterator

import pytest

from backend.fakes import FakeAuthentica, FakeUnifonic

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
