"""POST /admin/salons/: a platform admin creates a salon and names its manager by phone."""

import pytest

from backend.accounts.models import User
from backend.salons.models import Salon
from tests.core.test_errors import assert_error_shape
from tests.support.factories import client_for, make_user

pytestmark = pytest.mark.django_db


def test_a_new_phone_becomes_a_new_user_who_manages_the_salon(admin_client):
    response = admin_client.post(
        "/api/v1/admin/salons/",
        {"name": "Lamsa", "name_ar": "لمسة", "city": "Riyadh", "manager_phone": "0551234567"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["name_ar"], body["timezone"], body["slot_step_minutes"]) == (
        "Lamsa",
        "لمسة",
        "Asia/Riyadh",
        15,
    )
    manager = User.objects.get(phone_number="+966551234567")
    assert list(Salon.objects.get(id=body["id"]).managers.all()) == [manager]
    settings = client_for(manager).get(f"/api/v1/manage/salons/{body['id']}/settings/")
    assert settings.status_code == 200


def test_an_existing_user_is_reused(admin_client):
    existing = make_user(phone="+966551234567", name="Noura")
    body = admin_client.post(
        "/api/v1/admin/salons/",
        {"name": "Noura's", "city": "Jeddah", "timezone": "Asia/Riyadh", "manager_phone": "+966 55 123 4567"},
    ).json()
    assert list(Salon.objects.get(id=body["id"]).managers.all()) == [existing]
    assert User.objects.count() == 2  # the admin and Noura


def test_another_time_zone(admin_client):
    body = {"name": "Berlin", "city": "Berlin", "timezone": "Europe/Berlin", "manager_phone": "0551234567"}
    assert admin_client.post("/api/v1/admin/salons/", body).json()["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {"name": "X", "city": "R", "timezone": "Riyadh", "manager_phone": "0551234567"},
            "validation_error",
            "timezone",
        ),
        ({"name": "X", "city": "R", "manager_phone": ""}, "validation_error", "manager_phone"),
        ({"city": "R", "manager_phone": "0551234567"}, "validation_error", "name"),
        ({"name": "X", "manager_phone": "0551234567"}, "validation_error", "city"),
        ({"name": "X", "city": "R", "manager_phone": "12"}, "invalid_phone", None),
        ({"name": "X", "city": "R", "manager_phone": "0112345678"}, "invalid_phone", None),  # a landline
    ],
)
def test_bad_input_is_400_and_creates_nothing(admin_client, body, code, field):
    error = assert_error_shape(admin_client.post("/api/v1/admin/salons/", body), 400, code)
    if field:
        assert field in error["fields"]
    assert not Salon.objects.exists()
    assert User.objects.count() == 1  # only the admin
