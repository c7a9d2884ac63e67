"""A fake identity-token issuer for Sign in with Apple and Google: the providers' JWKS endpoints, with
RSA keys it generates, key rotation, and identity tokens minted for tests and development.

- ``GET /apple/auth/keys`` and ``GET /google/oauth2/v3/certs``: ``{"keys": [JWK, ...]}`` (RS256 public
  keys with ``kid``, ``alg``, ``use``), newest first, like the real endpoints (``APPLE_JWKS_URL``,
  ``GOOGLE_JWKS_URL`` are ``apple_jwks_url`` / ``google_jwks_url``).
- ``mint(provider, **claims)`` (``POST /_control/tokens``): an identity token signed with the provider's
  newest key; claims default to a valid token for ``DEFAULT_CLIENT_IDS`` and can be overridden (a claim
  set to None is left out), the signing ``kid`` can be chosen, or ``foreign_key=True`` signs with a key
  the endpoint never published (a bad signature under a known kid).
- ``rotate(provider, retire_old=True)`` (``POST /_control/rotate``): a new key, published first; the old
  ones are withdrawn unless ``retire_old`` is false (the overlap real providers keep).
- The base class's faults apply to the key endpoints: ``down`` closes connections, ``fail_next`` answers
  503, ``timeout_next`` hangs: "the keys cannot be fetched".

Uses PyJWT and cryptography (already requirements of the API) to sign; no Django.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .base import ControlError, FakeProvider, Request, Response, control_object

ISSUERS = {"apple": "https://appleid.apple.com", "google": "https://accounts.google.com"}
KEY_PATHS = {"apple": "/apple/auth/keys", "google": "/google/oauth2/v3/certs"}
DEFAULT_CLIENT_IDS = {"apple": "sa.salon.app", "google": "salon-test.apps.googleusercontent.com"}
TOKEN_SECONDS = 600  # Apple's tokens live 10 minutes


@dataclass(frozen=True)
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}


def _new_key() -> _Key:
    return _Key(
        f"fake-{secrets.token_hex(5)}", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )


def _provider(value: Any) -> str:
    if value not in ISSUERS:
        raise ControlError(f"provider must be one of {', '.join(ISSUERS)}")
    return value


class FakeJwks(FakeProvider):
    name = "jwks"
    prefix = ""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        super().__init__(host, port, **options)
        self._keys: dict[str, list[_Key]] = {provider: [_new_key()] for provider in ISSUERS}
        for provider, path in KEY_PATHS.items():
            self.add_route("GET", path, lambda request, provider=provider: self._answer_keys(provider))
        self.add_control_route("POST", "/tokens", self._control_mint)
        self.add_control_route("POST", "/rotate", self._control_rotate)

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def _reset_state(self) -> None:
        self._keys = {provider: [_new_key()] for provider in ISSUERS}

    @property
    def apple_jwks_url(self) -> str:
        return self.root_url + KEY_PATHS["apple"]

    @property
    def google_jwks_url(self) -> str:
        return self.root_url + KEY_PATHS["google"]

    # -- keys ---------------------------------------------------------------------------------------

    def kids(self, provider: str) -> list[str]:
        """The published key ids of `provider`, newest first."""
        with self._lock:
            return [key.kid for key in self._keys[_provider(provider)]]

    def rotate(self, provider: str, *, retire_old: bool = True) -> str:
        """Publishes a new key (first), withdrawing the others unless `retire_old` is false: its kid."""
        key = _new_key()
        with self._lock:
            kept = [] if retire_old else self._keys[_provider(provider)]
            self._keys[provider] = [key, *kept]
        return key.kid

    def _answer_keys(self, provider: str) -> Response:
        with self._lock:
            keys = list(self._keys[provider])
        return Response(200, {"keys": [key.jwk() for key in keys]})

    # -- tokens -------------------------------------------------------------------------------------

    def claims(self, provider: str, **overrides: Any) -> dict[str, Any]:
        """A valid token's claims for `provider`, with `overrides` (None removes a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUERS[_provider(provider)],
            "aud": DEFAULT_CLIENT_IDS[provider],
            "sub": f"{provider}-{secrets.token_hex(8)}",
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "email": f"{secrets.token_hex(4)}@privaterelay.example",
            "email_verified": "true" if provider == "apple" else True,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(self, provider: str, *, kid: str | None = None, foreign_key: bool = False, **claims: Any) -> str:
        """An identity token of `provider` with `claims` (see claims()), signed with its newest key, or
        the key `kid` (an unknown kid signs with a throwaway key), or a never-published key under the
        newest kid when `foreign_key`."""
        with self._lock:
            keys = self._keys[_provider(provider)]
            key = keys[0] if kid is None else next((k for k in keys if k.kid == kid), None)
        if key is None:
            key = _Key(kid or "", _new_key().private)
        if foreign_key:
            key = _Key(key.kid, _new_key().private)
        payload = self.claims(provider, **claims)
        return jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": key.kid})

    # -- control ------------------------------------------------------------------------------------

    def _control_mint(self, request: Request) -> Response:
        body = control_object(request)
        claims = body.get("claims", {})
        if not isinstance(claims, dict):
            raise ControlError("claims must be a JSON object")
        kid = body.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise ControlError("kid must be a string")
        token = self.mint(
            _provider(body.get("provider")), kid=kid, foreign_key=body.get("foreign_key") is True, **claims
        )
        return Response(200, {"id_token": token})

    def _control_rotate(self, request: Request) -> Response:
        body = control_object(request)
        retire_old = body.get("retire_old", True)
        if not isinstance(retire_old, bool):
            raise ControlError("retire_old must be true or false")
        kid = self.rotate(_provider(body.get("provider")), retire_old=retire_old)
        return Response(200, {"kid": kid, "kids": self.kids(body["provider"])})
