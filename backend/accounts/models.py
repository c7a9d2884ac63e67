import contextlib

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.core.phone import MAX_RAW_PHONE_LENGTH, phone_normalize_for_login, validate_login_phone


class Language(models.TextChoices):
    ARABIC = "ar", _("Arabic")
    ENGLISH = "en", _("English")


def default_channels() -> list[str]:
    """How a new account is reached: push when it has a device, else SMS (backend/notifications/
    preferences.py checks what may be stored)."""
    return ["push", "sms"]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone_number: str | None, password: str | None = None, **fields) -> "User":
        """A user by login number (any common form); None makes a social sign-in account without one."""
        if phone_number is not None:
            phone_number = phone_normalize_for_login(phone_number)
        user = self.model(phone_number=phone_number, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()  # phone users log in with one-time codes only
        user.save(using=self._db)
        return user

    def create_superuser(self, phone_number: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(phone_number, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        """Any common form of the number finds its user (createsuperuser checks uniqueness with it)."""
        with contextlib.suppress(ApplicationError):  # not a login number: the lookup finds nobody
            username = phone_normalize_for_login(username)
        return super().get_by_natural_key(username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their mobile number. `is_superuser` marks a platform admin; salon roles
    (staff, manager) come from the salons they belong to (`selectors.user_roles`).

    An account made by Sign in with Apple or Google (`SocialIdentity`) has no phone number (NULL) until
    its owner verifies one (services.otp_verify with the caller): it may not book or pay meanwhile
    (permissions.PhoneRequired).

    A deleted account is anonymised, not removed, so history rows keep their foreign keys: its phone
    number is NULL (the number may register again as a new user), name and email are blank, it is
    inactive and `deleted_at` is set. A database constraint holds that a deleted account has no phone."""

    # Raw forms ("00966 50 123 4567") pass through this field's validation before they are normalised,
    # hence the length; stored values are E.164. NULL for deleted accounts and social sign-ins that have
    # not verified a phone yet: unique allows many NULLs, and one number is one account.
    phone_number = models.CharField(  # noqa: DJ001
        _("phone number"),
        max_length=MAX_RAW_PHONE_LENGTH,
        unique=True,
        null=True,
        validators=[validate_login_phone],
        help_text=_("Mobile number in any common form, stored in E.164."),
    )
    name = models.CharField(_("name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ARABIC
    )
    marketing_opt_in = models.BooleanField(_("marketing messages"), default=False)
    marketing_opt_in_at = models.DateTimeField(
        _("marketing consent given at"), null=True, blank=True, help_text=_("Empty while not opted in.")
    )
    channels = models.JSONField(
        _("message channels"),
        default=default_channels,
        help_text=_("Channels to reach the user by, in order; sms is always last. Listing whatsapp opts in."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone_number"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(phone_number__isnull=True),
                name="accounts_user_deleted_has_no_phone",
                violation_error_message=_("A deleted account keeps no phone number."),
            ),
        ]

    def __str__(self) -> str:
        if self.phone_number:
            return self.phone_number
        return f"deleted user #{self.pk}" if self.deleted_at else f"user #{self.pk} (no phone)"

    def clean(self) -> None:
        super().clean()
        if self.phone_number is not None:
            with contextlib.suppress(ApplicationError):  # the field's validator reports a bad number
                self.phone_number = phone_normalize_for_login(self.phone_number)


class SocialProvider(models.TextChoices):
    APPLE = "apple", _("Apple")
    GOOGLE = "google", _("Google")


class SocialIdentity(models.Model):
    """A provider's account (Sign in with Apple or Google) linked to one of ours. The provider's subject
    (`sub`) is the key, never the e-mail, which the provider may change or hide behind a relay address;
    `email` is kept as the provider last gave it, for the person's export and for support."""

    provider = models.CharField(_("provider"), max_length=16, choices=SocialProvider.choices)
    subject = models.CharField(_("subject"), max_length=255, help_text=_("The provider's stable user id."))
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="social_identities", verbose_name=_("user")
    )
    email = models.CharField(_("email as given"), max_length=320, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), default=timezone.now)

    class Meta:
        verbose_name = _("social identity")
        verbose_name_plural = _("social identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="accounts_social_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"


class OtpChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class OtpChallenge(models.Model):
    """The one live login code of a phone number. A new request replaces the row's code; the code itself
    is never stored, only its keyed hash (services.otp_code_hash)."""

    phone_number = models.CharField(_("phone number"), max_length=16, unique=True, help_text="E.164")
    channel = models.CharField(_("channel"), max_length=16, choices=OtpChannel.choices)
    provider = models.CharField(_("provider"), max_length=32, blank=True, help_text=_("Who sent the code."))
    code_hash = models.CharField(_("code hash"), max_length=64)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    failed_attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    consumed_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")

    def __str__(self) -> str:
        return f"{self.phone_number} ({self.sent_at:%Y-%m-%d %H:%M})"
