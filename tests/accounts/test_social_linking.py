"""A social account verifies a phone: attached to it, or linked into the number's account (one person,
one account), race-safe; export and deletion of identities."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend.accounts import services
from backend.accounts.models import SocialIdentity, User
from tests.accounts.support import OTHER_PHONE, PHONE, bearer, error_of, login, request_code, social, verify
from tests.support.factories import make_admin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _codes_without_cooldown(settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0  # a number logs in, then is verified again by a social account


def sign_in(jwks, provider: str = "apple", sub: str = "apple-1", **fields) -> dict:
    response = social(APIClient(), provider, jwks.mint(provider, sub=sub), **fields)
    assert response.status_code == 200, response.content
    return response.json()


def verify_as(authentica, access: str, phone: str = PHONE):
    client = APIClient()
    assert request_code(client, phone).status_code == 202
    return verify(client, phone, authentica.last_otp(phone), **bearer(access))


def test_a_free_number_is_attached_to_the_caller(jwks, authentica):
    signed = sign_in(jwks, name="Noura")
    response = verify_as(authentica, signed["access"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["id"] == signed["user"]["id"] and body["user"]["phone"] == PHONE
    assert body["is_new_user"] is False
    me = APIClient().get("/api/v1/me/", **bearer(signed["access"]))  # the old token is still the caller's
    assert me.json()["phone"] == PHONE
    assert User.objects.count() == 1
    # Next time, Apple signs in to the account with the phone.
    assert sign_in(jwks)["user"] == body["user"]


def test_a_taken_number_links_the_caller_into_its_account(jwks, authentica):
    owner = login(APIClient(), authentica)  # the number's account, without a name
    signed = sign_in(jwks, name="Noura")
    google = social(APIClient(), "google", jwks.mint("google", sub="g-1"), **bearer(signed["access"]))
    assert google.status_code == 200
    caller_id = signed["user"]["id"]
    SocialIdentity.objects.filter(provider="google").update(user_id=caller_id)  # two identities on the caller
    response = verify_as(authentica, signed["access"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["id"] == owner["user"]["id"] and body["user"]["name"] == "Noura"  # filled in
    assert body["is_new_user"] is False
    assert APIClient().get("/api/v1/me/", **bearer(body["access"])).json()["phone"] == PHONE
    # Every identity of the caller now opens the number's account; the caller is gone.
    assert set(SocialIdentity.objects.values_list("user_id", flat=True)) == {owner["user"]["id"]}
    assert sign_in(jwks)["user"]["id"] == owner["user"]["id"]
    error_of(APIClient().get("/api/v1/me/", **bearer(signed["access"])), 401, "token_invalid")
    error_of(
        APIClient().post("/api/v1/auth/token/refresh/", {"refresh": signed["refresh"]}), 401, "token_invalid"
    )
    caller = User.objects.get(pk=caller_id)
    assert caller.deleted_at is not None and not caller.is_active and caller.name == ""
    assert User.objects.filter(phone_number=PHONE).count() == 1


def test_linking_keeps_the_owners_own_name(jwks, authentica):
    owner = login(APIClient(), authentica)
    User.objects.filter(pk=owner["user"]["id"]).update(name="Sara", email="sara@example.com")
    signed = sign_in(jwks, name="Noura")
    body = verify_as(authentica, signed["access"]).json()
    assert (body["user"]["name"], body["user"]["email"]) == ("Sara", "sara@example.com")


def test_a_disabled_owner_is_refused_and_nothing_moves(jwks, authentica):
    owner = login(APIClient(), authentica)
    User.objects.filter(pk=owner["user"]["id"]).update(is_active=False)
    signed = sign_in(jwks)
    error_of(verify_as(authentica, signed["access"]), 403, "account_disabled")
    assert SocialIdentity.objects.get().user_id == signed["user"]["id"]
    assert User.objects.get(pk=signed["user"]["id"]).phone_number is None


def test_a_caller_with_a_phone_just_logs_in_to_the_number(jwks, authentica):
    first = login(APIClient(), authentica, PHONE)
    response = verify_as(authentica, first["access"], OTHER_PHONE)
    body = response.json()
    assert body["user"]["phone"] == OTHER_PHONE and body["user"]["id"] != first["user"]["id"]
    assert body["is_new_user"] is True


@pytest.mark.parametrize("access", ["not-a-token", "two words"])
def test_an_invalid_token_on_verify_is_a_plain_login(jwks, authentica, access):
    signed = sign_in(jwks)
    body = verify_as(authentica, access).json()
    assert body["is_new_user"] is True and body["user"]["id"] != signed["user"]["id"]
    assert User.objects.get(pk=signed["user"]["id"]).phone_number is None


def test_a_number_taken_meanwhile_by_another_path_links_instead(jwks, authentica, monkeypatch):
    """The owner lookup found nobody, then another path (an admin, an invitation) took the number."""
    signed = sign_in(jwks)
    owner = User.objects.create_user(PHONE)
    real = services._phone_owner_locked
    missed = []

    def first_lookup_misses(*, phone_number):
        if not missed:
            missed.append(phone_number)
            return None
        return real(phone_number=phone_number)

    monkeypatch.setattr(services, "_phone_owner_locked", first_lookup_misses)
    body = verify_as(authentica, signed["access"]).json()
    assert missed == [PHONE]
    assert body["user"]["id"] == owner.pk
    assert SocialIdentity.objects.get().user_id == owner.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("number_has_an_account", [False, True])
def test_two_devices_verifying_one_number_at_once(jwks, authentica, number_has_an_account):
    """Two social accounts (two devices) verify the same number with its code at the same moment: one
    wins, the other's code is spent, and the number stays on exactly one account."""
    if number_has_an_account:
        login(APIClient(), authentica)
    callers = [sign_in(jwks, sub=f"apple-device-{n}") for n in range(2)]
    assert request_code(APIClient(), PHONE).status_code == 202
    code = authentica.last_otp(PHONE)
    barrier = threading.Barrier(len(callers))
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def race(access: str) -> None:
        try:
            barrier.wait()
            response = verify(APIClient(), PHONE, code, **bearer(access))
            with lock:
                results.append((response.status_code, response.json().get("error", {}).get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(caller["access"],)) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [(200, None), (400, "otp_expired")]
    assert User.objects.filter(phone_number=PHONE).count() == 1
    holder = User.objects.get(phone_number=PHONE)
    linked = SocialIdentity.objects.filter(user=holder).count()
    assert linked == 1  # the winner's identity; the loser's stays on its phone-less account
    assert SocialIdentity.objects.count() == 2


def test_export_lists_the_identities_and_delete_unlinks_them(jwks):
    signed = sign_in(jwks, sub="apple-export")
    client = APIClient()
    client.credentials(**bearer(signed["access"]))
    exported = client.get("/api/v1/me/export/").json()
    assert exported["profile"]["phone"] is None
    [identity] = exported["social_identities"]
    assert identity["provider"] == "apple" and identity["subject"] == "apple-export"
    assert {"email", "created_at", "last_used_at"} <= set(identity)
    assert client.delete("/api/v1/me/").status_code == 204
    assert not SocialIdentity.objects.exists()
    # The same Apple account signs up afresh: a new account.
    again = sign_in(jwks, sub="apple-export")
    assert again["is_new_user"] is True and again["user"]["id"] != signed["user"]["id"]


def test_user_names_in_the_admin_and_logs(jwks):
    signed = sign_in(jwks)
    user = User.objects.get(pk=signed["user"]["id"])
    assert str(user) == f"user #{user.pk} (no phone)"
    assert str(SocialIdentity.objects.get()) == "apple:apple-1"
    assert str(User.objects.create_user(PHONE)) == PHONE


def test_the_admin_lists_identities(jwks, client):
    sign_in(jwks)
    client.force_login(make_admin())
    response = client.get("/admin/accounts/socialidentity/")
    assert response.status_code == 200 and b"apple-1" in response.content
