"""Verifying Sign in with Apple / Google identity tokens (docs/adr/0014-social-sign-in.md).

An identity token is an OpenID Connect id_token: a JWT signed (RS256) by the provider with one of the
keys it publishes at its JWKS URL. It is accepted when its signature verifies against that key (found by
the token's `kid`), its issuer is the provider's, its audience is one of our app's client ids, it has not
expired and was not issued in the future (both with SOCIAL_TOKEN_LEEWAY_SECONDS of clock skew), and, when
the app sends a nonce, its `nonce` claim matches it.

Keys come from PyJWT's `PyJWKClient`, one per provider and process, kept for the life of the process:
it caches the key set for SOCIAL_JWKS_CACHE_SECONDS, refetches it once when a token names an unknown key
id (a rotation; at most once per SOCIAL_JWKS_REFRESH_COOLDOWN_SECONDS), and fetches with a timeout.
"""

import functools
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import SocialProvider
from backend.core.errors import ApplicationError

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256"]  # what Apple and Google sign with; never taken from the token
ISSUERS = {
    SocialProvider.APPLE: ("https://appleid.apple.com",),
    SocialProvider.GOOGLE: ("https://accounts.google.com", "accounts.google.com"),
}
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat"]
MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True)
class VerifiedIdentity:
    provider: str
    subject: str
    email: str  # as the provider gave it, "" when none
    email_verified: bool
    name: str  # Google's `name` claim; Apple never puts the name in the token


def _token_invalid() -> ApplicationError:
    return ApplicationError("social_token_invalid", _("The sign-in could not be verified. Please try again."))


def _keys_unavailable() -> ApplicationError:
    return ApplicationError(
        "social_keys_unavailable",
        _("Sign-in with this provider is unavailable right now. Please try again shortly."),
        status=503,
    )


class _JwksClient(jwt.PyJWKClient):
    """PyJWT's client, logging each fetch of the key set like our other provider calls (one line:
    provider, operation, latency, outcome; never the URL)."""

    def __init__(self, provider: str, uri: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self.provider = provider

    def fetch_data(self) -> Any:
        started = time.monotonic()
        outcome = "ok"
        try:
            return super().fetch_data()
        except Exception as error:
            outcome = type(error).__name__
            raise
        finally:
            logger.info(
                "provider=%s operation=jwks_fetch latency_ms=%d outcome=%s",
                self.provider,
                (time.monotonic() - started) * 1000,
                outcome,
            )


@functools.lru_cache(maxsize=8)
def _jwks_client(provider: str, uri: str, lifespan: int, timeout: float, cooldown: float) -> _JwksClient:
    """The process's client for these settings (a settings change, e.g. in a test, makes a new one)."""
    return _JwksClient(provider, uri, lifespan=lifespan, timeout=timeout, cooldown_duration=cooldown)


def jwks_client(provider: str) -> _JwksClient:
    uri = settings.APPLE_JWKS_URL if provider == SocialProvider.APPLE else settings.GOOGLE_JWKS_URL
    return _jwks_client(
        provider,
        uri,
        settings.SOCIAL_JWKS_CACHE_SECONDS,
        settings.SOCIAL_JWKS_TIMEOUT_SECONDS,
        settings.SOCIAL_JWKS_REFRESH_COOLDOWN_SECONDS,
    )


def jwks_clients_forget() -> None:
    """Drops every cached client and its keys (tests; a process otherwise keeps them)."""
    _jwks_client.cache_clear()


def client_ids(provider: str) -> list[str]:
    return settings.APPLE_CLIENT_IDS if provider == SocialProvider.APPLE else settings.GOOGLE_CLIENT_IDS


def _signing_key(provider: str, kid: str) -> jwt.PyJWK:
    """The provider's key `kid`: 503 when the key set cannot be had, 400 when it has no such key even
    after one refetch."""
    client = jwks_client(provider)
    try:
        client.get_signing_keys()  # the cached set, or a first fetch (an expired one is fetched again)
    except (jwt.PyJWTError, ValueError, OSError) as error:  # unreachable, timeout, 5xx, not JSON, no key
        logger.warning("JWKS of %s unavailable: %s", provider, type(error).__name__)
        raise _keys_unavailable() from None
    try:
        return client.get_signing_key(kid)  # refetches once on an unknown kid
    except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, ValueError, OSError) as error:
        logger.warning("JWKS of %s unavailable on refresh: %s", provider, type(error).__name__)
        raise _keys_unavailable() from None
    except jwt.PyJWKClientError:  # still no such key
        logger.info("identity token refused (%s): unknown key id", provider)
        raise _token_invalid() from None


def nonce_matches(*, claim: Any, nonce: str) -> bool:
    """The token's `nonce` is the app's nonce as sent, or its SHA-256 in lowercase hex: on iOS the app
    hands Apple the hash of a random nonce and Firebase-style clients send the raw one; both are
    accepted, compared in constant time."""
    if not isinstance(claim, str):
        return False
    hashed = hashlib.sha256(nonce.encode()).hexdigest()
    return hmac.compare_digest(claim.encode(), nonce.encode()) or hmac.compare_digest(
        claim.encode(), hashed.encode()
    )


def identity_token_verify(*, provider: str, id_token: str, nonce: str | None) -> VerifiedIdentity:
    """The verified identity in `id_token`, else 400 social_token_invalid (503 social_keys_unavailable
    when the provider's keys cannot be fetched and none are cached)."""
    audiences = client_ids(provider)
    if not audiences:
        raise ApplicationError(
            "social_provider_disabled", _("Sign-in with this provider is not offered."), status=400
        )
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
    except jwt.PyJWTError:
        raise _token_invalid() from None
    if not isinstance(kid, str) or not kid:
        raise _token_invalid()
    key = _signing_key(provider, kid)
    try:
        claims = jwt.decode(
            id_token,
            key,
            algorithms=ALGORITHMS,
            audience=audiences,
            issuer=ISSUERS[provider],
            leeway=settings.SOCIAL_TOKEN_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as error:
        logger.info("identity token refused (%s): %s", provider, type(error).__name__)
        raise _token_invalid() from None
    subject = claims["sub"]
    if not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise _token_invalid()
    if nonce is not None and not nonce_matches(claim=claims.get("nonce"), nonce=nonce):
        logger.info("identity token refused (%s): nonce mismatch", provider)
        raise _token_invalid()
    email = claims.get("email")
    name = claims.get("name")
    return VerifiedIdentity(
        provider=provider,
        subject=subject,
        email=email if isinstance(email, str) else "",
        # Apple writes the flag as a string ("true"), Google as a boolean.
        email_verified=claims.get("email_verified") in (True, "true"),
        name=name if isinstance(name, str) else "",
    )
