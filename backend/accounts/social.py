"""Sign in with Apple and Google: a faster door into the same phone-first account
(docs/adr/0014-social-sign-in.md).

A verified identity token names the person by the provider's subject. A known (provider, subject) logs
in to its account; an unknown one creates an account without a phone, which verifies one later with the
OTP endpoints while signed in (services.otp_verify with the caller) before it may book or pay."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.identity_tokens import VerifiedIdentity, identity_token_verify
from backend.accounts.models import SocialIdentity, User
from backend.accounts.selectors import user_can_authenticate
from backend.accounts.services import OtpLogin, login_issue
from backend.core.errors import ApplicationError

logger = logging.getLogger(__name__)


def _identity_locked(*, identity: VerifiedIdentity) -> SocialIdentity | None:
    return (
        SocialIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=identity.provider, subject=identity.subject)
        .first()
    )


def _account_create(*, identity: VerifiedIdentity, name: str, language: str) -> SocialIdentity:
    user = User.objects.create_user(
        None,
        name=(name or identity.name)[:150],
        # The profile e-mail only when the provider vouches for it; the identity keeps it as given.
        email=identity.email if identity.email_verified else "",
        language=language,
    )
    return SocialIdentity.objects.create(
        provider=identity.provider, subject=identity.subject, user=user, email=identity.email
    )


def social_sign_in(*, provider: str, id_token: str, nonce: str | None, name: str, language: str) -> OtpLogin:
    """Logs in with a provider's identity token, creating a phone-less account (named `name`, else the
    token's name; in `language`) for a subject seen for the first time.

    Errors: social_provider_disabled (no client id configured), social_token_invalid,
    social_keys_unavailable (503), account_disabled (403)."""
    # Verified before the transaction opens: fetching keys may take a network round trip.
    identity = identity_token_verify(provider=provider, id_token=id_token, nonce=nonce)
    return _sign_in_locked(identity=identity, name=name, language=language)


@transaction.atomic
def _sign_in_locked(*, identity: VerifiedIdentity, name: str, language: str) -> OtpLogin:
    found = _identity_locked(identity=identity)
    created = False
    if found is None:
        try:
            with transaction.atomic():
                found = _account_create(identity=identity, name=name, language=language)
                created = True
        except IntegrityError:  # the same first sign-in, in parallel, won: its row is committed now
            found = _identity_locked(identity=identity)
    assert found is not None
    user = found.user
    if not user_can_authenticate(user=user):
        raise ApplicationError("account_disabled", _("This account has been disabled."), status=403)
    found.last_used_at = timezone.now()
    found.email = identity.email or found.email
    found.save(update_fields=["last_used_at", "email"])
    return login_issue(user=user, is_new_user=created)


def social_identities_unlink(*, user: User) -> None:
    """Account deletion hook: the user's social identities go, so the same Apple or Google account signs
    up afresh afterwards."""
    SocialIdentity.objects.filter(user=user).delete()
