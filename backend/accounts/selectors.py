from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from backend.accounts.models import OtpChallenge, SocialIdentity, User


def user_roles(*, user: User) -> list[str]:
    """The user's roles as the API shows them: "customer", "staff", "manager".

    Every user is a customer. This is the single place salon roles join in: "staff" for an active staff
    profile (linked once the user accepted its invitation, salons.services.staff_invitation_accept),
    "manager" for a managed salon.
    Platform admins are `is_superuser` and are not a role here."""
    roles = ["customer"]
    if user.staff_profiles.filter(is_active=True).exists():
        roles.append("staff")
    if user.managed_salons.exists():
        roles.append("manager")
    return roles


def user_can_authenticate(*, user: User | None) -> bool:
    """Whether tokens and logins of this account are honoured: it exists, is active and not deleted."""
    return user is not None and user.is_active and user.deleted_at is None


def user_language_for_phone(*, phone_number: str, default: str) -> str:
    """The saved language of the account with this number, else `default` (the caller's language)."""
    saved = User.objects.filter(phone_number=phone_number).values_list("language", flat=True).first()
    return saved or default


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment is not None else None


def user_personal_data_profile(*, user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "phone": user.phone_number,
        "name": user.name,
        "email": user.email,
        "language": user.language,
        "roles": user_roles(user=user),
        "marketing_opt_in": user.marketing_opt_in,
        "marketing_opt_in_at": _local(user.marketing_opt_in_at),
        "channels": user.channels,
        "date_joined": _local(user.date_joined),
        "last_login": _local(user.last_login),
    }


def user_personal_data_login_codes(*, user: User) -> list[dict[str, Any]]:
    """Login codes sent to the user's number: when, how and how they were used; never the code hash."""
    return [
        {
            "channel": challenge.channel,
            "sent_at": _local(challenge.sent_at),
            "expires_at": _local(challenge.expires_at),
            "failed_attempts": challenge.failed_attempts,
            "used_at": _local(challenge.consumed_at),
        }
        for challenge in OtpChallenge.objects.filter(phone_number=user.phone_number)
    ]


def user_personal_data_sessions(*, user: User) -> list[dict[str, Any]]:
    """The refresh tokens issued to the user (logins and refreshes), without the tokens themselves."""
    tokens = (
        OutstandingToken.objects.filter(user=user).select_related("blacklistedtoken").order_by("created_at")
    )
    return [
        {
            "issued_at": _local(token.created_at),
            "expires_at": _local(token.expires_at),
            "revoked": hasattr(token, "blacklistedtoken"),
        }
        for token in tokens
    ]


def user_personal_data_social_identities(*, user: User) -> list[dict[str, Any]]:
    """The Apple and Google sign-ins linked to the account: provider, subject, e-mail as given, when."""
    identities = SocialIdentity.objects.filter(user=user).order_by("created_at", "id")
    return [
        {
            "provider": identity.provider,
            "subject": identity.subject,
            "email": identity.email,
            "created_at": _local(identity.created_at),
            "last_used_at": _local(identity.last_used_at),
        }
        for identity in identities
    ]
