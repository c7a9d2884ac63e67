from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.core.phone import phone_normalize


class Language(models.TextChoices):
    ARABIC = "ar", _("Arabic")
    ENGLISH = "en", _("English")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone_number: str, password: str | None = None, **fields) -> "User":
        user = self.model(phone_number=phone_normalize(phone_number), **fields)
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


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their mobile number. `is_superuser` marks a platform admin; salon roles
    (staff, manager) come from the salons they belong to."""

    phone_number = models.CharField(_("phone number"), max_length=32, unique=True, help_text="E.164")
    name = models.CharField(_("name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ARABIC
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone_number"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.phone_number

    def clean(self) -> None:
        super().clean()
        self.phone_number = phone_normalize(self.phone_number)
