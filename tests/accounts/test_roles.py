"""Salon roles in the user body; a staff profile waiting for the number is an invitation at login."""

import pytest

from backend.salons.models import StaffMember
from tests.accounts.support import PHONE, bearer, login
from tests.support.factories import make_salon, make_staff, make_user

pytestmark = pytest.mark.django_db


def test_a_staff_profile_waiting_for_the_number_is_an_invitation_after_login(api_client, authentica):
    staff = make_staff(make_salon(), phone=PHONE)
    body = login(api_client, authentica)
    assert StaffMember.objects.get(pk=staff.pk).user_id is None  # not linked without consent
    assert body["user"]["roles"] == ["customer"]
    headers = bearer(body["access"])
    (invitation,) = api_client.get("/api/v1/me/staff-invitations/", **headers).json()["results"]
    assert invitation["id"] == staff.pk
    accepted = api_client.post(f"/api/v1/me/staff-invitations/{staff.pk}/accept/", **headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert StaffMember.objects.get(pk=staff.pk).user_id == body["user"]["id"]
    assert api_client.get("/api/v1/me/", **headers).json()["roles"] == ["customer", "staff"]


def test_managers_have_the_manager_role(api_client, authentica):
    manager = make_user(phone=PHONE)
    make_salon(managers=[manager])
    body = login(api_client, authentica)
    assert body["user"]["roles"] == ["customer", "manager"]
    assert api_client.get("/api/v1/me/", **bearer(body["access"])).json()["roles"] == ["customer", "manager"]
