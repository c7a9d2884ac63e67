import contextlib
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import OtpChallenge, SocialIdentity, User
from backend.core.admin import ReadOnlyAdmin
from backend.core.errors import ApplicationError
from backend.core.phone import phone_normalize


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("phone_number",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Phone-only users: no username, usually no password (they log in with one-time codes; a platform
    admin needs one only for this admin site). Marketing consent is the user's own to give, and a
    deleted (anonymised) account is read-only."""

    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("-date_joined",)
    list_display = (
        "phone_number",
        "name",
        "language",
        "is_staff",
        "is_superuser",
        "is_active",
        "date_joined",
        "deleted_at",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "language", "marketing_opt_in")
    search_fields = ("phone_number", "name", "email")
    readonly_fields = ("marketing_opt_in", "marketing_opt_in_at", "last_login", "date_joined", "deleted_at")
    fieldsets = (
        (None, {"fields": ("phone_number", "password")}),
        (_("Profile"), {"fields": ("name", "email", "language", "marketing_opt_in", "marketing_opt_in_at")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined", "deleted_at")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("phone_number", "usable_password", "password1", "password2")},
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is not None and obj.deleted_at is not None:
            return [field for _name, options in self.fieldsets for field in options["fields"]]
        return super().get_readonly_fields(request, obj)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        """A number typed in any common form (`0501234567`) finds its E.164 record."""
        with contextlib.suppress(ApplicationError):
            search_term = phone_normalize(search_term)
        return super().get_search_results(request, queryset, search_term)


@admin.register(OtpChallenge)
class OtpChallengeAdmin(ReadOnlyAdmin):
    """Login codes in flight, for support ("did the code go out?"); the code's hash is never shown."""

    list_display = (
        "phone_number",
        "channel",
        "provider",
        "sent_at",
        "expires_at",
        "failed_attempts",
        "consumed_at",
    )
    list_filter = ("channel", "provider")
    search_fields = ("phone_number",)
    exclude = ("code_hash",)


@admin.register(SocialIdentity)
class SocialIdentityAdmin(ReadOnlyAdmin):
    """Apple and Google sign-ins and the accounts they open, for support; only their owners change them."""

    list_display = ("provider", "subject", "user", "email", "created_at", "last_used_at")
    list_filter = ("provider",)
    list_select_related = ("user",)
    search_fields = ("subject", "email", "user__phone_number")
