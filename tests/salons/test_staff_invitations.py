"""Staff invitations (issue 16: adding staff by phone told the manager whether the number was registered,
through `user_linked`, and made its owner staff without asking). A `phone` now invites; the person logs in,
sees the invitation at /me/staff-invitations/ and accepts or declines; only acceptance links them."""

import threading

import pytest
from django.db import connections

from backend.accounts.selectors import user_roles
from backend.salons.models import StaffMember
from backend.salons.services import staff_invitation_accept, staff_update
from tests.support.factories import client_for, make_salon, make_staff, make_user

pytestmark = pytest.mark.django_db

MINE = "/api/v1/me/staff-invitations/"


def manage(salon, rest: str = "") -> str:
    return f"/api/v1/manage/salons/{salon.id}/staff/{rest}"


def invite(manager_client, salon, phone: str, name: str = "Sara") -> dict:
    response = manager_client.post(manage(salon), {"name": name, "phone": phone}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def act(client, staff_id: int, action: str):
    return client.post(f"{MINE}{staff_id}/{action}/")


def test_the_answer_no_longer_tells_whether_a_phone_is_registered(manager_client, salon):
    registered = make_user()
    with_account = invite(manager_client, salon, registered.phone_number, name="A")
    without_account = invite(manager_client, salon, "0559876543", name="B")
    for body in (with_account, without_account):
        assert (body["user_linked"], body["invitation"]) == (False, "pending")
    assert set(with_account) == set(without_account)
    assert user_roles(user=registered) == ["customer"]  # not staff without their consent


def test_the_invited_person_sees_accepts_and_becomes_staff(manager_client, salon):
    invitee = make_user()
    created = invite(manager_client, salon, invitee.phone_number)
    client = client_for(invitee)
    listed = client.get(MINE, HTTP_ACCEPT_LANGUAGE="en").json()
    assert listed["count"] == 1
    (invitation,) = listed["results"]
    assert invitation == {
        "id": created["id"],
        "salon": salon.id,
        "salon_name": salon.name,
        "name": "Sara",
        "invited_at": invitation["invited_at"],
        "status": "pending",
    }
    assert invitation["invited_at"]
    accepted = act(client, created["id"], "accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert client.get("/api/v1/me/").json()["roles"] == ["customer", "staff"]
    assert client.get(MINE).json()["count"] == 0
    seen = manager_client.get(manage(salon, f"{created['id']}/")).json()
    assert (seen["user_linked"], seen["invitation"]) == (True, "accepted")
    # Retried (a lost answer): the same; declining what was accepted is not possible.
    assert act(client, created["id"], "accept").json() == accepted.json()
    assert act(client, created["id"], "decline").status_code == 404


def test_a_declined_invitation_links_nobody_until_the_manager_invites_again(manager_client, salon):
    invitee = make_user()
    created = invite(manager_client, salon, invitee.phone_number)
    client = client_for(invitee)
    declined = act(client, created["id"], "decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert act(client, created["id"], "decline").json() == declined.json()
    assert act(client, created["id"], "accept").status_code == 404
    assert client.get(MINE).json()["count"] == 0
    seen = manager_client.get(manage(salon, f"{created['id']}/")).json()
    assert (seen["user_linked"], seen["invitation"]) == (False, "declined")
    assert StaffMember.objects.get(id=created["id"]).user is None
    # Setting the same phone again invites again.
    again = manager_client.patch(manage(salon, f"{created['id']}/"), {"phone": invitee.phone_number}).json()
    assert again["invitation"] == "pending"
    assert client.get(MINE).json()["count"] == 1
    assert act(client, created["id"], "accept").status_code == 200


def test_nobody_else_can_answer_or_see_an_invitation(manager_client, salon):
    invitee, stranger = make_user(), make_user()
    created = invite(manager_client, salon, invitee.phone_number)
    outsider = client_for(stranger)
    assert outsider.get(MINE).json()["count"] == 0
    for action in ("accept", "decline"):
        assert act(outsider, created["id"], action).status_code == 404
    assert act(outsider, 999_999_999, "accept").status_code == 404
    assert client_for(None).get(MINE).status_code == 401
    assert StaffMember.objects.get(id=created["id"]).invitation_status == "pending"


def test_a_withdrawn_invitation_can_no_longer_be_accepted(manager_client, salon):
    invitee = make_user()
    client = client_for(invitee)
    moved = invite(manager_client, salon, invitee.phone_number, name="A")
    manager_client.patch(manage(salon, f"{moved['id']}/"), {"phone": "0559876543"})
    removed = invite(manager_client, salon, invitee.phone_number, name="B")
    assert manager_client.delete(manage(salon, f"{removed['id']}/")).status_code == 204
    assert client.get(MINE).json()["count"] == 0
    for staff_id in (moved["id"], removed["id"]):
        assert act(client, staff_id, "accept").status_code == 404


def test_invitations_of_several_salons_are_listed_newest_first(manager_client, salon):
    invitee = make_user()
    older = make_staff(make_salon(), phone=invitee.phone_number)  # made before invitations were dated
    newer = invite(manager_client, salon, invitee.phone_number)
    make_staff(make_salon(), phone=invitee.phone_number, user=make_user())  # someone else's (data repair)
    ids = [row["id"] for row in client_for(invitee).get(MINE).json()["results"]]
    assert ids == [newer["id"], older.id]


def test_a_stale_copy_of_the_staff_member_cannot_undo_an_acceptance(manager_client, salon):
    """The manager's PATCH read the staff member before the invitee accepted: sending the same phone (with
    a new name) must not write the old, unlinked `user` back."""
    invitee = make_user()
    created = invite(manager_client, salon, invitee.phone_number)
    stale = StaffMember.objects.get(id=created["id"])
    staff_invitation_accept(user=invitee, staff_id=created["id"])
    staff_update(staff=stale, data={"name": "Sara A.", "phone": invitee.phone_number})
    fresh = StaffMember.objects.get(id=created["id"])
    assert (fresh.name, fresh.user) == ("Sara A.", invitee)


@pytest.mark.django_db(transaction=True)
def test_two_devices_accepting_at_once_link_once():
    salon = make_salon(managers=[make_user()])
    invitee = make_user()
    staff = make_staff(salon, phone=invitee.phone_number)
    barrier = threading.Barrier(2)
    answers = []

    def accept() -> None:
        try:
            barrier.wait()
            answers.append(act(client_for(invitee), staff.id, "accept").status_code)
        finally:
            connections.close_all()  # each thread opened its own connection

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200]
    assert StaffMember.objects.get(id=staff.id).user == invitee


def test_the_admin_lists_each_staff_members_invitation(client, salon):
    from tests.support.factories import make_admin

    make_staff(salon, phone=make_user().phone_number, name="Invited")
    client.force_login(make_admin())
    page = client.get("/admin/salons/staffmember/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "pending" in page.content.decode()
