"""Phone-only users in the Django admin and in `createsuperuser`."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from backend.accounts.models import User
from backend.accounts.services import user_delete
from tests.accounts.support import OTHER_PHONE, PHONE

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("+966599999999", password="admin-password")
    client.force_login(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_add_page_creates_a_phone_only_user(admin_client):
    assert admin_client.get(f"{USERS}add/").status_code == 200
    response = admin_client.post(f"{USERS}add/", {"phone_number": "050 123 4567", "usable_password": "false"})
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(phone_number=PHONE)
    assert not user.has_usable_password() and not user.is_staff


def test_add_page_with_a_password(admin_client):
    response = admin_client.post(
        f"{USERS}add/",
        {
            "phone_number": "+966551234567",
            "usable_password": "true",
            "password1": "a-long-admin-passphrase",
            "password2": "a-long-admin-passphrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(phone_number=OTHER_PHONE).check_password("a-long-admin-passphrase")


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("0112345678", "Enter a valid mobile phone number."),
        ("+201001234567", "Mobile numbers from this country cannot be used to log in."),
        ("00966599999999", "User with this Phone number already exists."),  # the admin's own, other form
    ],
)
def test_add_page_refuses_numbers_that_cannot_log_in(admin_client, phone, message):
    response = admin_client.post(f"{USERS}add/", {"phone_number": phone, "usable_password": "false"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == 1


def test_change_page_saves(admin_client):
    user = User.objects.create_user(PHONE, name="Noura")
    page = f"{USERS}{user.pk}/change/"
    assert admin_client.get(page).status_code == 200
    data = {
        "phone_number": "0551234567",
        "name": "Noura A.",
        "email": "",
        "language": "en",
        "is_active": "on",
    }
    response = admin_client.post(page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert (user.phone_number, user.name, user.language) == (OTHER_PHONE, "Noura A.", "en")


def test_a_deleted_account_is_read_only(admin_client):
    user = User.objects.create_user(PHONE, name="Noura")
    user_delete(user=user)
    page = f"{USERS}{user.pk}/change/"
    response = admin_client.get(page)
    assert response.status_code == 200 and f"deleted user #{user.pk}" in response.content.decode()
    assert admin_client.post(page, {"name": "Back"}).status_code == 302
    user.refresh_from_db()
    assert user.name == "" and user.phone_number is None


def test_changelist_finds_a_number_typed_in_any_form(admin_client):
    User.objects.create_user(PHONE, name="Findable")
    User.objects.create_user(OTHER_PHONE, name="Other")
    content = admin_client.get(USERS, {"q": "0501234567"}).content.decode()
    assert "Findable" in content and "Other" not in content
    assert "Findable" in admin_client.get(USERS, {"q": "Find"}).content.decode()


# --- createsuperuser --------------------------------------------------------------------------------
def test_createsuperuser_noinput_takes_any_common_form(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", "00966 50 123 4567")
    call_command("createsuperuser", interactive=False, verbosity=0)
    admin = User.objects.get(phone_number=PHONE)
    assert admin.is_superuser and admin.is_staff and not admin.has_usable_password()


def test_createsuperuser_noinput_with_a_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", "0501234567")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase")
    call_command("createsuperuser", interactive=False, verbosity=0)
    assert User.objects.get(phone_number=PHONE).check_password("a-long-admin-passphrase")


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("0112345678", "Enter a valid mobile phone number."),
        ("+201001234567", "Mobile numbers from this country cannot be used to log in."),
        ("+966501234567", "already taken"),
    ],
)
def test_createsuperuser_noinput_refuses(monkeypatch, phone, message):
    User.objects.create_user("0501234567")
    monkeypatch.setenv("DJANGO_SUPERUSER_PHONE_NUMBER", phone)
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("createsuperuser", interactive=False, verbosity=0)


class _TTY:
    def isatty(self) -> bool:
        return True


def test_createsuperuser_interactive(monkeypatch, capsys):
    answers = iter(["0112345678", "050 123 4567"])  # a landline first: refused, asked again
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ": "a-long-admin-passphrase")
    with translation.override("en"):
        call_command("createsuperuser", interactive=True, stdin=_TTY(), verbosity=1)
    admin = User.objects.get(phone_number=PHONE)
    assert admin.is_superuser and admin.check_password("a-long-admin-passphrase")
    assert "Enter a valid mobile phone number." in capsys.readouterr().err


def test_the_readmes_admin_recipe_logs_into_the_admin(monkeypatch):
    """The README's createsuperuser command, run as written, gives a login to /admin/."""
    import re
    import shlex
    from pathlib import Path

    from django.test import Client

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    command = re.search(r"(DJANGO_SUPERUSER_PHONE_NUMBER=.*?createsuperuser --noinput)", readme, re.S)[1]
    words = shlex.split(command.replace("\\\n", " "))
    variables = dict(
        word.split("=", 1) for word in words if "=" in word and word.isascii() and word[0].isupper()
    )
    assert words[-4:] == ["scripts/devservices.py", "manage", "createsuperuser", "--noinput"]
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    call_command("createsuperuser", interactive=False, verbosity=0)
    username = re.search(r"log in at <http://127\.0\.0\.1:8000/admin/> as `(\+\d+)`", readme)[1]
    client = Client()
    answer = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": variables["DJANGO_SUPERUSER_PASSWORD"], "next": "/admin/"},
    )
    assert (answer.status_code, answer["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
