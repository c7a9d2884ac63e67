"""/me/: the profile, the personal data export, and account deletion."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.accounts import deletion, export
from backend.accounts.models import OtpChallenge, User
from backend.accounts.services import user_delete
from tests.accounts.support import PHONE, bearer, error_of, login, request_code

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
EXPORT = "/api/v1/me/export/"


@pytest.fixture
def session(api_client, authentica):
    """A logged-in client: (client, login answer)."""
    tokens = login(api_client, authentica)
    api_client.credentials(**bearer(tokens["access"]))
    return api_client, tokens


def test_me_needs_a_token(api_client):
    for response in (
        api_client.get(ME),
        api_client.patch(ME, {}),
        api_client.delete(ME),
        api_client.get(EXPORT),
    ):
        error_of(response, 401, "not_authenticated")


def test_read_and_update_the_profile(session):
    client, tokens = session
    assert client.get(ME).json() == tokens["user"]
    changes = {"name": "نورة", "language": "en", "email": "noura@example.com", "marketing_opt_in": True}
    response = client.patch(ME, {**changes, "phone": "+966559999999", "id": 999})
    assert response.status_code == 200
    assert response.json() == {**tokens["user"], **changes}  # phone and id are not editable
    user = User.objects.get(phone_number=PHONE)
    assert (user.name, user.language, user.email, user.marketing_opt_in) == tuple(changes.values())
    consent_time = user.marketing_opt_in_at
    assert consent_time is not None
    client.patch(ME, {"marketing_opt_in": True, "name": "Noura"})
    assert (
        User.objects.get(pk=user.pk).marketing_opt_in_at == consent_time
    )  # unchanged consent keeps its time
    client.patch(ME, {"marketing_opt_in": False})
    user.refresh_from_db()
    assert (user.marketing_opt_in, user.marketing_opt_in_at, user.name) == (False, None, "Noura")
    assert client.patch(ME, {"email": ""}).json()["email"] == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"email": "not-an-email"}, "email"),
        ({"name": "x" * 151}, "name"),
        ({"name": 42}, "name"),
        ({"name": None}, "name"),
        ({"marketing_opt_in": "yes"}, "marketing_opt_in"),
        ({"marketing_opt_in": 1}, "marketing_opt_in"),
    ],
)
def test_bad_profile_changes_are_refused_whole(session, changes, field):
    client, _ = session
    error = error_of(client.patch(ME, {"name": "Saved?", **changes}), 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert client.get(ME).json()["name"] == ""  # nothing half-written


def test_export_holds_what_was_created(session, monkeypatch):
    client, tokens = session
    client.patch(ME, {"name": "Noura", "email": "noura@example.com", "marketing_opt_in": True})
    client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    monkeypatch.setattr(export, "_sections", dict(export._sections))
    export.register_personal_data_section("other_app", lambda *, user: [{"user": user.pk}])
    response = client.get(EXPORT)
    assert response.status_code == 200
    data = response.json()
    assert list(data)[:4] == ["exported_at", "profile", "login_codes", "sessions"]  # then other apps'
    assert list(data)[-1] == "other_app"
    assert data["exported_at"].endswith("+03:00")
    profile = data["profile"]
    assert {key: profile[key] for key in ("phone", "name", "email", "marketing_opt_in", "roles")} == {
        "phone": PHONE,
        "name": "Noura",
        "email": "noura@example.com",
        "marketing_opt_in": True,
        "roles": ["customer"],
    }
    assert profile["marketing_opt_in_at"] and profile["date_joined"] and profile["last_login"]
    [code] = data["login_codes"]
    assert code["channel"] == "sms" and code["failed_attempts"] == 0 and code["used_at"]
    assert [session["revoked"] for session in data["sessions"]] == [True, False]  # login, then a refresh
    assert data["other_app"] == [{"user": profile["id"]}]
    challenge = OtpChallenge.objects.get()
    text = json.dumps(data)
    assert challenge.code_hash not in text and tokens["refresh"] not in text


def test_sections_have_one_owner():
    profile = export._sections["profile"]
    export.register_personal_data_section("profile", profile)  # the same function again: fine
    with pytest.raises(ImproperlyConfigured):
        export.register_personal_data_section("profile", lambda *, user: {})
    with pytest.raises(ImproperlyConfigured):
        export.register_personal_data_section("exported_at", lambda *, user: {})


def test_delete_anonymises_kills_every_token_and_frees_the_number(session, authentica, monkeypatch, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    client, tokens = session
    client.patch(ME, {"name": "Noura", "email": "noura@example.com", "marketing_opt_in": True})
    second_device = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).json()
    seen = []
    monkeypatch.setattr(deletion, "_hooks", [])
    hook = lambda *, user: seen.append((user.pk, user.phone_number))  # noqa: E731
    deletion.register_account_deletion_hook(hook)
    deletion.register_account_deletion_hook(hook)  # registered once
    request_code(client)  # a pending code too
    user = User.objects.get(phone_number=PHONE)

    assert client.delete(ME).status_code == 204

    assert seen == [(user.pk, PHONE)]  # hooks ran once, while the data was still there
    user.refresh_from_db()
    assert user.phone_number is None and user.name == "" and user.email == ""
    assert (user.is_active, user.marketing_opt_in, user.marketing_opt_in_at) == (False, False, None)
    assert user.deleted_at is not None and not user.has_usable_password()
    assert str(user) == f"deleted user #{user.pk}"
    assert not OtpChallenge.objects.exists()
    for access in (tokens["access"], second_device["access"]):
        error_of(client.get(ME, **bearer(access)), 401, "token_invalid")
    client.credentials()
    for refresh in (tokens["refresh"], second_device["refresh"]):
        error_of(client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}), 401, "token_invalid")

    again = login(client, authentica)
    assert again["is_new_user"] is True and again["user"]["id"] != user.pk
    assert again["user"]["name"] == ""


def test_deleting_twice_does_nothing_more(authentica):
    user = User.objects.create_user(PHONE, name="Noura")
    user_delete(user=user)
    deleted_at = User.objects.get(pk=user.pk).deleted_at
    user_delete(user=user)
    assert User.objects.get(pk=user.pk).deleted_at == deleted_at
