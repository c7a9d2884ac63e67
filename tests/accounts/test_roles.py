"""Salon roles in the user body, and staff profiles linked to the number at login."""

import pytest

from backend.salons.models import StaffMember
from tests.accounts.support import PHONE, bearer, login
from tests.support.factories import make_salon, make_staff, make_user

pytestmark = pytest.mark.django_db


def test_a_staff_profile_waiting_for_the_number_is_linked_at_first_login(api_client, authentica):
    staff = make_staff(make_salon(), phone=PHONE)
    body = login(api_client, authentica)
    assert StaffMember.objects.get(pk=staff.pk).user_id == body["user"]["id"]
    assert body["user"]["roles"] == ["customer", "staff"]


def test_managers_have_the_manager_role(api_client, authentica):
    manager = make_user(phone=PHONE)
    make_salon(managers=[manager])
    body = login(api_client, authentica)
    assert body["user"]["roles"] == ["customer", "manager"]
    assert api_client.get("/api/v1/me/", **bearer(body["access"])).json()["roles"] == ["customer", "manager"]
