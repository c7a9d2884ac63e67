"""The fake JWKS issuer: published keys, rotation, minted tokens that verify (or not) against them."""

import time

import jwt
import pytest
import requests

from backend.fakes import ControlError, FakeJwks
from backend.fakes.jwks import DEFAULT_CLIENT_IDS


@pytest.fixture(scope="module")
def fake():
    with FakeJwks() as running:
        yield running


@pytest.fixture(autouse=True)
def _reset(fake):
    fake.reset()


def verify(fake: FakeJwks, provider: str, token: str, **options) -> dict:
    url = fake.apple_jwks_url if provider == "apple" else fake.google_jwks_url
    key = jwt.PyJWKClient(url, cache_jwk_set=False).get_signing_key_from_jwt(token)
    return jwt.decode(token, key, algorithms=["RS256"], audience=DEFAULT_CLIENT_IDS[provider], **options)


@pytest.mark.parametrize("provider", ["apple", "google"])
def test_a_minted_token_verifies_against_the_published_keys(fake, provider):
    claims = verify(fake, provider, fake.mint(provider, sub="s-1", nonce="n"))
    assert claims["sub"] == "s-1" and claims["nonce"] == "n"
    assert claims["iss"] in ("https://appleid.apple.com", "https://accounts.google.com")
    assert 0 < claims["exp"] - time.time() <= 600
    keys = requests.get(
        fake.apple_jwks_url if provider == "apple" else fake.google_jwks_url, timeout=5
    ).json()
    assert [key["kid"] for key in keys["keys"]] == fake.kids(provider)
    assert {key["alg"] for key in keys["keys"]} == {"RS256"} and "d" not in keys["keys"][0]  # public only


def test_claims_can_be_overridden_or_left_out(fake):
    claims = jwt.decode(fake.mint("apple", aud="x", email=None), options={"verify_signature": False})
    assert claims["aud"] == "x" and "email" not in claims


def test_rotation_withdraws_or_keeps_old_keys(fake):
    first = fake.kids("apple")
    kept = fake.rotate("apple", retire_old=False)
    assert fake.kids("apple") == [kept, *first]
    old_token = fake.mint("apple", kid=first[0])
    assert verify(fake, "apple", old_token)["iss"] == "https://appleid.apple.com"
    newest = fake.rotate("apple")
    assert fake.kids("apple") == [newest]
    with pytest.raises(jwt.PyJWKClientError):
        verify(fake, "apple", old_token)


def test_bad_signatures_and_unknown_kids(fake):
    with pytest.raises(jwt.InvalidSignatureError):
        verify(fake, "google", fake.mint("google", foreign_key=True))
    with pytest.raises(jwt.PyJWKClientError):
        verify(fake, "google", fake.mint("google", kid="nobody"))


def test_the_control_api(fake):
    control = fake.root_url + "/_control"
    token = requests.post(f"{control}/tokens", json={"provider": "google", "claims": {"sub": "g"}}, timeout=5)
    assert verify(fake, "google", token.json()["id_token"])["sub"] == "g"
    rotated = requests.post(f"{control}/rotate", json={"provider": "google", "retire_old": False}, timeout=5)
    assert rotated.json()["kids"] == fake.kids("google") and len(fake.kids("google")) == 2
    for path, body in [
        ("tokens", {"provider": "facebook"}),
        ("tokens", {"provider": "apple", "claims": []}),
        ("tokens", {"provider": "apple", "kid": 3}),
        ("rotate", {"provider": "apple", "retire_old": "yes"}),
    ]:
        assert requests.post(f"{control}/{path}", json=body, timeout=5).status_code == 400
    with pytest.raises(ControlError):
        fake.kids("facebook")


def test_the_keys_endpoint_can_be_made_to_fail(fake):
    fake.down = True
    with pytest.raises(requests.ConnectionError):
        requests.get(fake.apple_jwks_url, timeout=5)
    fake.down = False
    fake.fail_next(1)
    assert requests.get(fake.apple_jwks_url, timeout=5).status_code == 503
    assert requests.get(fake.apple_jwks_url, timeout=5).status_code == 200
