"""JWT authentication that refuses, at once, every access token of a deleted or deactivated account."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.tokens import Token

from backend.accounts.selectors import user_can_authenticate
from backend.core.audit import audit_actor_bind


class TokenInvalid(exceptions.AuthenticationFailed):
    default_detail = _("The token is invalid or has expired.")
    default_code = "token_invalid"


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's, with every refusal answered 401 `token_invalid` with a plain message (simplejwt's
    details are nested dicts), and deleted or deactivated accounts refused although their access token
    has not expired yet: it lives JWT_ACCESS_MINUTES, but `DELETE /me/` must end it now."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken:
            raise TokenInvalid() from None

    def get_user(self, validated_token: Token) -> Any:
        try:
            user = super().get_user(validated_token)
        except AuthenticationFailed:  # unknown user, inactive user, no user claim
            raise TokenInvalid() from None
        if not user_can_authenticate(user=user):
            raise TokenInvalid()
        audit_actor_bind(user=user)
        return user


def token_user_or_none(request: Any) -> Any:
    """The user of the request's access token when it is valid, else None (no token, or a malformed,
    invalid or expired one): for endpoints anyone may call, where a token only adds to what they do."""
    try:
        authenticated = JWTAuthentication().authenticate(request)
    except exceptions.AuthenticationFailed:  # TokenInvalid, or simplejwt's malformed-header refusal
        return None
    return authenticated[0] if authenticated is not None else None
