"""POST /auth/social/: identity tokens verified against the provider's keys (a fake issuer over HTTP)."""

import hashlib
import threading
import time

import jwt
import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend.accounts import social as social_module
from backend.accounts.models import SocialIdentity, User
from tests.accounts.support import ARABIC, bearer, error_of, key_fetches, social
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db


def test_a_first_apple_sign_in_creates_an_account_without_a_phone(api_client, jwks):
    token = jwks.mint("apple", sub="apple-0001", email="x@privaterelay.appleid.com")
    response = social(api_client, "apple", token, name="Noura")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "user", "is_new_user"}
    assert body["is_new_user"] is True
    assert body["user"]["phone"] is None and body["user"]["name"] == "Noura"
    assert body["user"]["email"] == "x@privaterelay.appleid.com"  # Apple vouched for it ("true")
    identity = SocialIdentity.objects.get()
    assert (identity.provider, identity.subject, identity.user_id) == (
        "apple",
        "apple-0001",
        body["user"]["id"],
    )
    me = api_client.get("/api/v1/me/", **bearer(body["access"]))
    assert me.status_code == 200 and me.json()["phone"] is None


def test_the_subject_is_the_key_not_the_email(api_client, jwks):
    first = social(api_client, "apple", jwks.mint("apple", sub="apple-7", email="a@example.com")).json()
    identity = SocialIdentity.objects.get()
    used = identity.last_used_at
    again = social(api_client, "apple", jwks.mint("apple", sub="apple-7", email="b@example.com")).json()
    assert again["is_new_user"] is False and again["user"]["id"] == first["user"]["id"]
    identity.refresh_from_db()
    assert identity.email == "b@example.com" and identity.last_used_at > used  # as the provider last gave it
    # Another subject with the first one's e-mail is another person.
    other = social(api_client, "apple", jwks.mint("apple", sub="apple-8", email="a@example.com")).json()
    assert other["is_new_user"] is True and other["user"]["id"] != first["user"]["id"]
    # The same subject at Google is another identity too.
    google = social(api_client, "google", jwks.mint("google", sub="apple-7")).json()
    assert google["user"]["id"] != first["user"]["id"]
    assert User.objects.count() == 3


def test_google_issuers_and_name(api_client, jwks):
    for issuer in ("https://accounts.google.com", "accounts.google.com"):
        token = jwks.mint("google", iss=issuer, name="Sara Q.", email_verified=False)
        body = social(api_client, "google", token).json()
        assert body["user"]["name"] == "Sara Q."
        assert body["user"]["email"] == ""  # not verified by Google: kept on the identity only


def test_the_language_of_the_request_names_the_new_account(api_client, jwks):
    token = jwks.mint("apple")
    body = social(api_client, "apple", token, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["user"]["language"] == "en"


@pytest.mark.parametrize(
    "case",
    [
        "wrong_signature",
        "wrong_audience",
        "wrong_issuer",
        "expired",
        "issued_in_the_future",
        "unknown_kid",
        "no_kid",
        "not_a_jwt",
        "no_subject",
        "long_subject",
        "hs256",
    ],
)
def test_bad_tokens_are_refused(api_client, jwks, case):
    now = int(time.time())
    tokens = {
        "wrong_signature": lambda: jwks.mint("apple", foreign_key=True),
        "wrong_audience": lambda: jwks.mint("apple", aud="someone.elses.app"),
        "wrong_issuer": lambda: jwks.mint("apple", iss="https://accounts.google.com"),
        "expired": lambda: jwks.mint("apple", iat=now - 900, exp=now - 120),
        "issued_in_the_future": lambda: jwks.mint("apple", iat=now + 600, exp=now + 1200),
        "unknown_kid": lambda: jwks.mint("apple", kid="never-published"),
        "no_kid": lambda: jwks.mint("apple", kid=""),
        "not_a_jwt": lambda: "not.a.jwt",
        "no_subject": lambda: jwks.mint("apple", sub=None),
        "long_subject": lambda: jwks.mint("apple", sub="s" * 256),
        "hs256": lambda: jwt.encode(
            jwks.claims("apple"), "k" * 32, algorithm="HS256", headers={"kid": jwks.kids("apple")[0]}
        ),
    }
    response = social(api_client, "apple", tokens[case](), HTTP_ACCEPT_LANGUAGE="ar")
    error = error_of(response, 400, "social_token_invalid")
    assert ARABIC.search(error["message"])
    assert not User.objects.exists()


def test_clock_skew_within_the_leeway_is_accepted(api_client, jwks):
    now = int(time.time())
    late = jwks.mint("apple", iat=now - 700, exp=now - 30)
    early = jwks.mint("apple", iat=now + 30)
    assert social(api_client, "apple", late).status_code == 200
    assert social(api_client, "apple", early).status_code == 200


def test_nonce(api_client, jwks):
    raw = "r4nd0m-n0nce"
    hashed = hashlib.sha256(raw.encode()).hexdigest()
    assert social(api_client, "apple", jwks.mint("apple", nonce=raw), nonce=raw).status_code == 200
    # iOS: the app gave Apple the SHA-256 of its nonce; it may send either form.
    assert social(api_client, "apple", jwks.mint("apple", nonce=hashed), nonce=raw).status_code == 200
    assert social(api_client, "apple", jwks.mint("apple", nonce=hashed), nonce=hashed).status_code == 200
    error_of(
        social(api_client, "apple", jwks.mint("apple", nonce=raw), nonce="other"), 400, "social_token_invalid"
    )
    error_of(social(api_client, "apple", jwks.mint("apple"), nonce=raw), 400, "social_token_invalid")
    error_of(
        social(api_client, "google", jwks.mint("google", nonce=7), nonce="7"), 400, "social_token_invalid"
    )
    # No nonce sent: the token's is not checked (the app did not use one for this request).
    assert social(api_client, "google", jwks.mint("google", nonce=raw)).status_code == 200


def test_keys_are_cached_across_requests_and_refetched_for_a_rotated_key(api_client, jwks):
    for _ in range(3):
        assert social(api_client, "apple", jwks.mint("apple")).status_code == 200
    assert key_fetches(jwks) == 1
    new_kid = jwks.rotate("apple")  # the old key is withdrawn, a new one signs from now on
    assert social(api_client, "apple", jwks.mint("apple", kid=new_kid)).status_code == 200
    assert key_fetches(jwks) == 2  # the unknown kid refetched the keys once
    assert social(api_client, "apple", jwks.mint("apple")).status_code == 200
    assert key_fetches(jwks) == 2


def test_an_unknown_kid_refetches_at_most_once_per_cooldown(api_client, jwks, settings):
    settings.SOCIAL_JWKS_REFRESH_COOLDOWN_SECONDS = 300
    assert social(api_client, "apple", jwks.mint("apple")).status_code == 200
    for _ in range(3):
        error_of(social(api_client, "apple", jwks.mint("apple", kid="made-up")), 400, "social_token_invalid")
    assert key_fetches(jwks) == 1


def test_keys_down_without_a_cache_is_503(api_client, jwks):
    jwks.down = True
    response = social(api_client, "apple", jwks.mint("apple"), HTTP_ACCEPT_LANGUAGE="ar")
    error = error_of(response, 503, "social_keys_unavailable")
    assert ARABIC.search(error["message"])
    jwks.down = False
    assert social(api_client, "apple", jwks.mint("apple")).status_code == 200  # nothing bad was cached


def test_keys_endpoint_failing_or_answering_garbage_is_503(api_client, jwks):
    jwks.fail_next(1, status=500)
    error_of(social(api_client, "apple", jwks.mint("apple")), 503, "social_keys_unavailable")
    jwks.fail_next(1, status=200, body="<html>maintenance</html>")
    error_of(social(api_client, "apple", jwks.mint("apple")), 503, "social_keys_unavailable")
    jwks.fail_next(1, status=200, body={"keys": []})
    error_of(social(api_client, "apple", jwks.mint("apple")), 503, "social_keys_unavailable")


def test_keys_down_with_a_cache_still_signs_in(api_client, jwks):
    assert social(api_client, "apple", jwks.mint("apple")).status_code == 200
    jwks.down = True
    assert social(api_client, "apple", jwks.mint("apple")).status_code == 200
    # A rotated key cannot be fetched while the endpoint is down: 503, not a refusal of a good token.
    new_kid = jwks.rotate("apple", retire_old=False)
    error_of(social(api_client, "apple", jwks.mint("apple", kid=new_kid)), 503, "social_keys_unavailable")
    jwks.down = False
    jwks.fail_next(1, status=200, body="not json")
    error_of(social(api_client, "apple", jwks.mint("apple", kid=new_kid)), 503, "social_keys_unavailable")
    assert social(api_client, "apple", jwks.mint("apple", kid=new_kid)).status_code == 200


def test_expired_cache_is_fetched_again(api_client, jwks, settings):
    settings.SOCIAL_JWKS_CACHE_SECONDS = 1
    assert social(api_client, "google", jwks.mint("google")).status_code == 200
    # Sign-ins within the cached second fetch nothing; the first after it fetches the keys again.
    wait_until(
        lambda: (
            social(api_client, "google", jwks.mint("google")).status_code == 200
            and key_fetches(jwks, "google") == 2
        ),
        timeout=10,
        interval=0.3,  # a few sign-ins, well under the throttle
    )


def test_a_provider_without_client_ids_is_off(api_client, jwks, settings):
    settings.GOOGLE_CLIENT_IDS = []
    error_of(social(api_client, "google", jwks.mint("google")), 400, "social_provider_disabled")
    assert key_fetches(jwks, "google") == 0


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "facebook", "id_token": "x"},
        {"provider": "apple"},
        {"provider": "apple", "id_token": 5},
        {"provider": "apple", "id_token": "x" * 8193},
        {"provider": "apple", "id_token": "x", "name": "n" * 151},
        {"provider": "apple", "id_token": "x", "nonce": ["n"]},
    ],
)
def test_malformed_requests(api_client, jwks, body):
    error_of(api_client.post("/api/v1/auth/social/", body, format="json"), 400, "validation_error")


def test_a_disabled_account_cannot_sign_in(api_client, jwks):
    token = jwks.mint("apple", sub="apple-off")
    user_id = social(api_client, "apple", token).json()["user"]["id"]
    User.objects.filter(pk=user_id).update(is_active=False)
    error_of(social(api_client, "apple", jwks.mint("apple", sub="apple-off")), 403, "account_disabled")


def test_a_first_sign_in_that_loses_the_race_logs_in_to_the_winner(api_client, jwks, monkeypatch):
    """The lookup found nothing, but a parallel first sign-in committed the identity before the insert."""
    token = jwks.mint("apple", sub="apple-race")
    winner = social(api_client, "apple", token).json()["user"]["id"]
    real = social_module._identity_locked
    missed = []

    def first_lookup_misses(*, identity):
        if not missed:
            missed.append(identity)
            return None
        return real(identity=identity)

    monkeypatch.setattr(social_module, "_identity_locked", first_lookup_misses)
    body = social(api_client, "apple", jwks.mint("apple", sub="apple-race")).json()
    assert body["user"]["id"] == winner and body["is_new_user"] is False
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_first_sign_ins_of_one_subject_make_one_account(jwks):
    racers = 6
    tokens = [jwks.mint("google", sub="google-parallel") for _ in range(racers)]
    barrier = threading.Barrier(racers)
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def race(token: str) -> None:
        try:
            barrier.wait()
            response = social(APIClient(), "google", token)
            with lock:
                results.append((response.status_code, response.json()["user"]["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == racers
    assert {status for status, _ in results} == {200}
    assert len({user_id for _, user_id in results}) == 1
    assert User.objects.count() == 1 and SocialIdentity.objects.count() == 1
