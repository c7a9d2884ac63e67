"""The waitlist API as the apps use it: joining (and what is refused), listing, leaving, answering an
offer, the managers' list, the salon setting, and the account's data."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.services import user_delete
from backend.bookings.models import Booking, BookingStatus
from backend.salons.models import Closure
from backend.waitlist.matching import waitlist_match_salon
from backend.waitlist.models import EntryStatus, FreedTime, WaitlistEntry
from tests.support.api import error_code
from tests.support.factories import client_for, make_service, make_user

pytestmark = pytest.mark.django_db


def join(user, salon, service, day, **fields):
    body = {"salon": salon.pk, "service": service.pk, "date": str(day), **fields}
    return client_for(user).post("/api/v1/waitlist/", body, format="json")


def test_a_customer_joins_and_sees_the_entry(salon, service, staff, day, full_day):
    customer = make_user()
    response = join(customer, salon, service, day, staff=staff.pk, **{"from": "17:00", "to": "20:00"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "waiting" and body["offer"] is None
    assert (body["from"], body["to"], body["staff"]) == ("17:00", "20:00", staff.pk)
    listed = client_for(customer).get("/api/v1/waitlist/").json()
    assert [entry["id"] for entry in listed["results"]] == [body["id"]]
    assert client_for(make_user()).get("/api/v1/waitlist/").json()["results"] == []


def test_the_same_wait_twice_is_409_already_waiting(salon, service, staff, day, full_day):
    customer = make_user()
    assert join(customer, salon, service, day).status_code == 201
    again = join(customer, salon, service, day)
    assert again.status_code == 409 and error_code(again) == "already_waiting"
    # Another staff member, or another date, is another wait.
    assert join(customer, salon, service, day, staff=staff.pk).status_code == 201
    assert join(customer, salon, service, day + timedelta(days=1)).status_code == 201


@pytest.mark.parametrize("offset", [-1, 400])
def test_a_date_past_or_beyond_the_horizon_is_400(salon, service, staff, offset):
    day = timezone.localdate() + timedelta(days=offset)
    response = join(make_user(), salon, service, day)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert "date" in response.json()["error"]["fields"]


def test_a_date_without_hours_is_400(salon, service, staff, day):
    Closure.objects.create(salon=salon, date=day, end_date=day)
    response = join(make_user(), salon, service, day)
    assert response.status_code == 400 and "date" in response.json()["error"]["fields"]


def test_bad_staff_service_and_window_are_400(salon, service, staff, day):
    other = make_service(salon, name="Shave")
    assert error_code(join(make_user(), salon, other, day, staff=staff.pk)) == "staff_not_qualified"
    assert join(make_user(), salon, service, day, staff=999999).status_code == 400
    assert join(make_user(), salon, service, day, **{"from": "18:00", "to": "17:00"}).status_code == 400
    assert join(make_user(), salon, service, day, **{"from": "25:00"}).status_code == 400
    assert join(make_user(), salon, service, "not-a-date").status_code == 400
    response = client_for(make_user()).post(
        "/api/v1/waitlist/", {"salon": salon.pk, "service": 0}, format="json"
    )
    assert response.status_code == 400


def test_leaving_cancels_and_others_get_404(salon, service, staff, day, full_day):
    customer = make_user()
    entry_id = join(customer, salon, service, day).json()["id"]
    assert client_for(make_user()).delete(f"/api/v1/waitlist/{entry_id}/").status_code == 404
    assert client_for(customer).delete(f"/api/v1/waitlist/{entry_id}/").status_code == 204
    assert WaitlistEntry.objects.get(pk=entry_id).status == EntryStatus.CANCELLED
    # Cancelled, the same wait may be joined again.
    assert join(customer, salon, service, day).status_code == 201


def test_answers_without_an_offer(salon, service, staff, day, full_day):
    customer = make_user()
    entry_id = join(customer, salon, service, day).json()["id"]
    accept = client_for(customer).post(f"/api/v1/waitlist/{entry_id}/accept/")
    assert accept.status_code == 409 and error_code(accept) == "offer_expired"
    decline = client_for(customer).post(f"/api/v1/waitlist/{entry_id}/decline/")
    assert decline.status_code == 200 and decline.json()["status"] == "waiting"
    assert client_for(make_user()).post(f"/api/v1/waitlist/{entry_id}/accept/").status_code == 404


def test_offer_accept_and_decline_through_the_api(salon, service, staff, day, full_day):
    first, second = make_user(), make_user()
    first_id = join(first, salon, service, day).json()["id"]
    second_id = join(second, salon, service, day).json()["id"]
    full_day[3].status = BookingStatus.CANCELLED
    full_day[3].save()
    FreedTime.objects.create(salon=salon, first_day=day, last_day=day, reason="test")
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    offered = client_for(first).get("/api/v1/waitlist/").json()["results"][0]
    assert offered["status"] == "offered"
    assert offered["offer"]["staff_id"] == staff.pk
    assert offered["offer"]["start"].startswith(f"{day}T12:00")
    declined = client_for(first).post(f"/api/v1/waitlist/{first_id}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == "waiting"
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    accepted = client_for(second).post(f"/api/v1/waitlist/{second_id}/accept/")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["status"] == "confirmed"
    assert client_for(second).get("/api/v1/waitlist/").json()["results"][0]["status"] == "booked"


def test_managers_see_their_salons_waitlist_filtered(salon, service, staff, day, full_day, manager):
    join(make_user(), salon, service, day)
    join(make_user(), salon, service, day + timedelta(days=1))
    url = f"/api/v1/manage/salons/{salon.pk}/waitlist/"
    everything = client_for(manager).get(url).json()["results"]
    assert [entry["date"] for entry in everything] == [str(day), str(day + timedelta(days=1))]
    assert len(client_for(manager).get(url, {"date": str(day)}).json()["results"]) == 1
    assert client_for(manager).get(url, {"status": "booked"}).json()["results"] == []
    assert client_for(manager).get(url, {"status": "nonsense"}).status_code == 400
    assert client_for(make_user()).get(url).status_code == 404


def test_the_offer_minutes_are_a_salon_setting(salon, manager):
    url = f"/api/v1/manage/salons/{salon.pk}/settings/"
    assert client_for(manager).get(url).json()["waitlist_offer_minutes"] == 15
    response = client_for(manager).patch(url, {"waitlist_offer_minutes": 5}, format="json")
    assert response.status_code == 200 and response.json()["waitlist_offer_minutes"] == 5
    assert client_for(manager).patch(url, {"waitlist_offer_minutes": 0}, format="json").status_code == 400


def test_the_export_lists_entries_and_deletion_takes_them(salon, service, staff, day, full_day):
    customer = make_user()
    entry_id = join(customer, salon, service, day).json()["id"]
    full_day[0].status = BookingStatus.CANCELLED
    full_day[0].save()
    FreedTime.objects.create(salon=salon, first_day=day, last_day=day, reason="test")
    waitlist_match_salon(salon_id=salon.pk)
    export = client_for(customer).get("/api/v1/me/export/").json()
    assert [entry["id"] for entry in export["waitlist"]] == [entry_id]
    assert export["waitlist"][0]["offers"][0]["outcome"] == "open"
    held = Booking.objects.get(customer=customer)
    user_delete(user=customer)
    assert not WaitlistEntry.objects.filter(pk=entry_id).exists()
    held.refresh_from_db()
    assert held.status == BookingStatus.EXPIRED  # the held slot is free again


def test_offer_times_are_in_the_salons_zone(salon, service, staff, day, full_day):
    salon.timezone = "Asia/Dubai"
    salon.save(update_fields=["timezone"])
    customer = make_user()
    join(customer, salon, service, day)
    full_day[0].status = BookingStatus.CANCELLED
    full_day[0].save()
    FreedTime.objects.create(salon=salon, first_day=day, last_day=day, reason="test")
    waitlist_match_salon(salon_id=salon.pk)
    offer = client_for(customer).get("/api/v1/waitlist/").json()["results"][0]["offer"]
    assert offer["start"].endswith("+04:00") and offer["expires_at"].endswith("+04:00")
