"""POST/DELETE /me/devices/ and the channel preference on /me/: registration, a token moving between
accounts, deletion with the account, the export, and what the preference accepts."""

import pytest

from backend.accounts.services import user_delete
from backend.notifications.models import Device
from tests.accounts.support import OTHER_PHONE, bearer, error_of, login

pytestmark = pytest.mark.django_db

DEVICES = "/api/v1/me/devices/"
ME = "/api/v1/me/"


@pytest.fixture
def client(api_client, authentica):
    api_client.credentials(**bearer(login(api_client, authentica)["access"]))
    return api_client


@pytest.fixture
def other_client(authentica):
    from rest_framework.test import APIClient

    other = APIClient()
    other.credentials(**bearer(login(other, authentica, phone=OTHER_PHONE)["access"]))
    return other


def test_register_then_again_answers_200_with_the_same_device(client):
    first = client.post(DEVICES, {"token": "fcm-token-1", "platform": "ios"}, format="json")
    assert first.status_code == 201
    assert set(first.json()) == {"id", "platform", "created_at"} and first.json()["platform"] == "ios"
    again = client.post(DEVICES, {"token": "fcm-token-1", "platform": "android"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Device.objects.get().platform == "android"


def test_a_token_moves_to_the_account_that_registers_it_last(client, other_client):
    mine = client.post(DEVICES, {"token": "shared-phone", "platform": "android"}, format="json").json()
    moved = other_client.post(DEVICES, {"token": "shared-phone", "platform": "android"}, format="json")
    assert moved.status_code == 200 and moved.json()["id"] == mine["id"]
    assert Device.objects.get().user.phone_number == OTHER_PHONE
    error_of(client.delete(f"{DEVICES}{mine['id']}/"), 404, "not_found")  # no longer the first's
    assert other_client.delete(f"{DEVICES}{mine['id']}/").status_code == 204
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"token": "t"},
        {"token": "t", "platform": "windows"},
        {"token": 42, "platform": "ios"},
        {"platform": "ios"},
    ],
)
def test_bad_registrations_are_400(client, body):
    error_of(client.post(DEVICES, body, format="json"), 400, "validation_error")


def test_devices_need_a_login(api_client):
    error_of(
        api_client.post(DEVICES, {"token": "t", "platform": "ios"}, format="json"), 401, "not_authenticated"
    )
    error_of(api_client.delete(f"{DEVICES}1/"), 401, "not_authenticated")


def test_devices_are_exported_without_tokens_and_deleted_with_the_account(client):
    device = client.post(DEVICES, {"token": "secret-token", "platform": "ios"}, format="json").json()
    export = client.get("/api/v1/me/export/").json()
    [exported] = export["devices"]
    assert (exported["id"], exported["platform"]) == (device["id"], "ios") and "token" not in exported
    assert "secret-token" not in str(export)
    assert export["profile"]["channels"] == ["push", "sms"]
    user = Device.objects.get().user
    user_delete(user=user)
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (["whatsapp", "push", "sms"], ["whatsapp", "push", "sms"]),
        (["sms", "whatsapp"], ["whatsapp", "sms"]),
        ([], ["sms"]),
        (["push", "push"], ["push", "sms"]),
    ],
)
def test_the_channel_preference_is_normalised_with_sms_last(client, sent, stored):
    assert client.get(ME).json()["channels"] == ["push", "sms"]
    assert client.patch(ME, {"channels": sent}, format="json").json()["channels"] == stored
    assert client.get(ME).json()["channels"] == stored


@pytest.mark.parametrize("sent", [["email"], "push", [None], ["push"] * 7])
def test_an_unknown_channel_is_refused(client, sent):
    error = error_of(client.patch(ME, {"channels": sent}, format="json"), 400, "validation_error")
    assert list(error["fields"]) == ["channels"]
    assert client.get(ME).json()["channels"] == ["push", "sms"]


def test_a_token_longer_than_fcm_makes_is_refused(client):
    error = error_of(
        client.post(DEVICES, {"token": "t" * 513, "platform": "ios"}, format="json"), 400, "validation_error"
    )
    assert list(error["fields"]) == ["token"]
