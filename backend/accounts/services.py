"""Account writes: OTP login, JWT pairs, the profile, and account deletion (docs/adr/0004-otp-login.md)."""

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.authentication import TokenInvalid
from backend.accounts.deletion import account_deletion_hooks_run
from backend.accounts.models import Language, OtpChallenge, SocialIdentity, User
from backend.accounts.otp_delivery import otp_channel_check, otp_deliver
from backend.accounts.selectors import user_can_authenticate, user_language_for_phone
from backend.accounts.throttles import otp_send_reserve
from backend.core.errors import ApplicationError
from backend.core.http import ProviderError
from backend.core.phone import phone_normalize_for_login

logger = logging.getLogger(__name__)

OTP_CODE_DIGITS = 6
USER_EDITABLE_FIELDS = ("name", "language", "email", "marketing_opt_in", "channels")


# --- Login codes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OtpRequestResult:
    expires_in: int  # seconds the code stays valid
    resend_after: int  # seconds before another code may be requested


@dataclass(frozen=True)
class OtpLogin:
    user: User
    is_new_user: bool
    access: str
    refresh: str


def otp_code_hash(*, phone_number: str, code: str) -> str:
    """HMAC-SHA256 of the code, bound to the number, keyed by OTP_HASH_KEY (default: SECRET_KEY). With
    a million possible codes a plain hash would fall to brute force; without the key this one cannot."""
    return salted_hmac(
        "backend.accounts.otp", f"{phone_number}:{code}", secret=settings.OTP_HASH_KEY, algorithm="sha256"
    ).hexdigest()


def _otp_code_generate() -> str:
    return f"{secrets.randbelow(10**OTP_CODE_DIGITS):0{OTP_CODE_DIGITS}d}"


def otp_request(*, phone: str, channel: str, client_ip: str, language: str) -> OtpRequestResult:
    """Sends a new login code to `phone`, replacing any earlier one. The answer is the same whether or
    not the number has an account. A provider failure raises 502 otp_delivery_failed, is not counted
    against the send limits, and stores nothing: the undelivered code never works, and an earlier code
    stays as it was."""
    phone_number = phone_normalize_for_login(phone)
    otp_channel_check(channel=channel)
    reservation = otp_send_reserve(phone_number=phone_number, client_ip=client_ip)
    code = _otp_code_generate()
    try:
        sent = otp_deliver(
            phone_number=phone_number,
            code=code,
            channel=channel,
            language=user_language_for_phone(phone_number=phone_number, default=language),
        )
    except ProviderError as error:
        reservation.release()
        logger.warning("OTP delivery failed: %r", error)
        raise ApplicationError(
            "otp_delivery_failed",
            _("We could not send the code right now. Please try again."),
            status=502,
        ) from error
    now = timezone.now()
    OtpChallenge.objects.update_or_create(
        phone_number=phone_number,
        defaults={
            "channel": channel,
            "provider": sent.provider,
            "code_hash": otp_code_hash(phone_number=phone_number, code=code),
            "sent_at": now,
            "expires_at": now + timedelta(seconds=settings.OTP_CODE_TTL_SECONDS),
            "failed_attempts": 0,
            "consumed_at": None,
        },
    )
    return OtpRequestResult(
        expires_in=settings.OTP_CODE_TTL_SECONDS, resend_after=settings.OTP_RESEND_COOLDOWN_SECONDS
    )


def _otp_expired_error() -> ApplicationError:
    return ApplicationError("otp_expired", _("This code has expired or was already used. Ask for a new one."))


def _otp_challenge_use(
    *, challenge: OtpChallenge | None, phone_number: str, code: str
) -> ApplicationError | None:
    """Checks `code` against the locked challenge; a wrong code is counted on the row. None: it is right."""
    if challenge is None or challenge.consumed_at is not None:
        return _otp_expired_error()
    if challenge.failed_attempts >= settings.OTP_MAX_ATTEMPTS:
        return ApplicationError("otp_locked", _("Too many wrong codes. Ask for a new code."), status=429)
    if challenge.expires_at <= timezone.now():
        return _otp_expired_error()
    if not hmac.compare_digest(challenge.code_hash, otp_code_hash(phone_number=phone_number, code=code)):
        challenge.failed_attempts += 1
        challenge.save(update_fields=["failed_attempts"])
        attempts_left = settings.OTP_MAX_ATTEMPTS - challenge.failed_attempts
        return ApplicationError(
            "otp_invalid", _("The code is not right."), extra={"attempts_left": attempts_left}
        )
    challenge.consumed_at = timezone.now()
    challenge.save(update_fields=["consumed_at"])
    return None


def login_issue(*, user: User, is_new_user: bool) -> OtpLogin:
    """A login of `user`: last_login is stamped and a fresh JWT pair issued."""
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    return OtpLogin(user=user, is_new_user=is_new_user, access=access, refresh=str(refresh))


@transaction.atomic
def _otp_verify_locked(
    *, phone_number: str, code: str, language: str, caller: User | None
) -> OtpLogin | ApplicationError:
    # The row lock makes a code single-use: a parallel verify waits here, then finds it consumed. It also
    # serialises every verify of one number, so two devices attaching it cannot both win.
    challenge = OtpChallenge.objects.select_for_update().filter(phone_number=phone_number).first()
    error = _otp_challenge_use(challenge=challenge, phone_number=phone_number, code=code)
    if error is not None:
        return error  # returned, not raised, so that the counted wrong attempt is committed
    caller = User.objects.select_for_update().get(pk=caller.pk) if caller is not None else None
    if caller is not None and caller.phone_number is None:
        user, created = _phone_attach(caller=caller, phone_number=phone_number), False
    else:
        user, created = user_get_or_create_by_phone(phone=phone_number, language=language)
    if not user_can_authenticate(user=user):
        return ApplicationError("account_disabled", _("This account has been disabled."), status=403)
    return login_issue(user=user, is_new_user=created)


def otp_verify(*, phone: str, code: str, language: str, caller: User | None = None) -> OtpLogin:
    """Logs in with the code sent to `phone`, creating the account (in `language`) on first login.

    `caller`, the authenticated user when the app sent an access token: if it has no phone yet (a Sign
    in with Apple or Google account), the verified number is attached to it; if the number already has
    an account, the caller's social identities move to that account, which answers (one person, one
    account; the emptied caller account is deleted). A caller that has a phone changes nothing: the code
    logs in to the number's account, as without a token.

    Errors: otp_invalid (wrong code, with attempts_left), otp_locked once OTP_MAX_ATTEMPTS wrong codes
    were tried (even for the right code), otp_expired (expired, already used, or never requested)."""
    outcome = _otp_verify_locked(
        phone_number=phone_normalize_for_login(phone), code=code, language=language, caller=caller
    )
    if isinstance(outcome, ApplicationError):
        raise outcome
    return outcome


def _phone_owner_locked(*, phone_number: str) -> User | None:
    return User.objects.select_for_update().filter(phone_number=phone_number).first()


def _phone_attach(*, caller: User, phone_number: str) -> User:
    """The account that holds `phone_number` after the phone-less, locked `caller` verified it: the
    caller itself when the number was free, else the number's account, into which the caller merges.
    A disabled owner is answered as is (account_disabled) and nothing moves."""
    owner = _phone_owner_locked(phone_number=phone_number)
    if owner is None:
        try:
            with transaction.atomic():  # the unique number: another path may have taken it meanwhile
                caller.phone_number = phone_number
                caller.save(update_fields=["phone_number"])
            return caller
        except IntegrityError:  # that path committed first: its account is the number's
            caller.phone_number = None
            owner = _phone_owner_locked(phone_number=phone_number)
    assert owner is not None
    if user_can_authenticate(user=owner):
        _user_merge(source=caller, into=owner)
    return owner


def _user_merge(*, source: User, into: User) -> None:
    """Moves the phone-less `source`'s social identities to `into`, fills `into`'s blank name and email
    from it, then deletes `source` (as DELETE /me/ would: tokens revoked, anonymised). `source` holds
    nothing else: without a phone it could not book or pay."""
    SocialIdentity.objects.filter(user=source).update(user=into)
    filled = [field for field in ("name", "email") if not getattr(into, field) and getattr(source, field)]
    for field in filled:
        setattr(into, field, getattr(source, field))
    if filled:
        into.save(update_fields=filled)
    user_delete(user=source)
    logger.info("account %s merged into %s after a phone verification", source.pk, into.pk)


# --- Users ----------------------------------------------------------------------------------------
def user_get_or_create_by_phone(*, phone: str, language: str = Language.ARABIC) -> tuple[User, bool]:
    """The account of a login number (any common form), created if new: (user, created)."""
    phone_number = phone_normalize_for_login(phone)
    user = User.objects.filter(phone_number=phone_number).first()
    if user is not None:
        return user, False
    try:
        with transaction.atomic():
            return User.objects.create_user(phone_number, language=language), True
    except IntegrityError:  # created by a parallel request in the meantime
        return User.objects.get(phone_number=phone_number), False


def user_update(*, user: User, data: Mapping[str, Any]) -> User:
    """Profile changes (name, language, email, marketing_opt_in, channels); the consent time is recorded when
    the user opts in and cleared when they opt out."""
    changed = [field for field in USER_EDITABLE_FIELDS if field in data]
    opt_in = data.get("marketing_opt_in", user.marketing_opt_in)
    if opt_in != user.marketing_opt_in:
        user.marketing_opt_in_at = timezone.now() if opt_in else None
        changed.append("marketing_opt_in_at")
    for field in USER_EDITABLE_FIELDS:
        if field in data:
            setattr(user, field, data[field])
    user.save(update_fields=changed)
    return user


def _user_tokens_revoke(*, user: User) -> None:
    """Blacklists every refresh token ever issued to the user that is not blacklisted yet."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Deletes the account by anonymising it: other apps' deletion hooks run first (future bookings are
    cancelled there), then the phone number, name, email and login codes go, every refresh token is
    blacklisted and the account is deactivated, which also refuses its access tokens at once. The row
    stays, so history (bookings, payments) keeps its foreign keys without personal data, and the number
    can register again as a new account."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        return
    account_deletion_hooks_run(user=user)
    OtpChallenge.objects.filter(phone_number=user.phone_number).delete()
    _user_tokens_revoke(user=user)
    user.phone_number = None
    user.name = ""
    user.email = ""
    user.marketing_opt_in = False
    user.marketing_opt_in_at = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


# --- Tokens ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _token_invalid_error() -> ApplicationError:
    return ApplicationError(
        "token_invalid",
        TokenInvalid.default_detail,
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def _refresh_token_parse(raw: str) -> RefreshToken:
    """A refresh token with a valid signature, not expired and not blacklisted, else 401 token_invalid."""
    try:
        return RefreshToken(raw)
    except TokenError:
        raise _token_invalid_error() from None


@transaction.atomic
def token_refresh(*, refresh: str) -> TokenPair:
    """A new pair for a refresh token, which is blacklisted: each refresh token works once, even when
    two requests race with it (only one of them blacklists it)."""
    token = _refresh_token_parse(refresh)
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if not user_can_authenticate(user=user):
        raise _token_invalid_error()
    _, blacklisted_now = token.blacklist()
    if not blacklisted_now:
        raise _token_invalid_error()
    new_refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(new_refresh.access_token), refresh=str(new_refresh))


def token_revoke(*, refresh: str) -> None:
    """Logout: the refresh token is blacklisted (access tokens die with their short lifetime)."""
    _refresh_token_parse(refresh).blacklist()


def otp_challenges_purge(*, now: datetime | None = None) -> int:
    """Retention (beat, daily): login-code rows expired more than RETENTION_OTP_DAYS ago go. They hold a
    phone number, possibly of someone who never became a user; send limits live in Redis, not here.
    Returns how many rows were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_OTP_DAYS)
    deleted, _by_model = OtpChallenge.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
