"""The personal data export (`GET /me/export/`): every personal datum the platform holds on a user.

Each app that stores personal data registers a section from its AppConfig.ready:

    register_personal_data_section("bookings", bookings_personal_data)

where `bookings_personal_data(*, user)` returns JSON-serialisable data (dicts, lists, strings, numbers,
datetimes). The export is `{"exported_at": ..., "<section>": ..., ...}` in registration order. Accounts
registers its own sections ("profile", "login_codes", "sessions") the same way (apps.py).
Sections run in the request, so they should be a few queries each.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

if TYPE_CHECKING:
    from backend.accounts.models import User

PersonalDataSection = Callable[["User"], Any]

_sections: dict[str, PersonalDataSection] = {}


def register_personal_data_section(name: str, fn: PersonalDataSection) -> None:
    """Adds the section `name`, produced by `fn(user=user)`. A name belongs to one function."""
    if name == "exported_at" or _sections.get(name, fn) is not fn:
        raise ImproperlyConfigured(f"Personal data section {name!r} is already registered.")
    _sections[name] = fn


def personal_data_export(*, user: "User") -> dict[str, Any]:
    return {"exported_at": timezone.localtime(), **{name: fn(user=user) for name, fn in _sections.items()}}
