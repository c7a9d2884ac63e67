"""POST /bookings/ with `items`: a visit of several services back to back, all items or none."""

import pytest
from django.test import Client

from backend.bookings.models import Booking, BookingItem
from backend.notifications.models import Kind, Notification
from tests.support.api import error_code
from tests.support.factories import (
    at,
    client_for,
    make_admin,
    make_booking,
    make_salon,
    make_service,
    make_staff,
    make_user,
    next_weekday,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    return next_weekday(0)  # the factory salon and staff work 09:00-21:00


@pytest.fixture
def salon():
    return make_salon()


@pytest.fixture
def colour(salon):
    return make_service(salon, name="Colour", duration_minutes=30, processing_minutes=40, price_halalas=20000)


@pytest.fixture
def blow_dry(salon):
    return make_service(salon, name="Blow-dry", duration_minutes=30, price_halalas=8000)


@pytest.fixture
def sara(salon, colour, blow_dry):
    return make_staff(salon, name="Sara", services=[colour, blow_dry])


def visit(customer, salon, start, *items, **headers):
    body = {
        "salon": salon.id,
        "start": start.isoformat(),
        "items": [
            {"service": service.id, "staff": None if staff is None else staff.id} for service, staff in items
        ],
    }
    return client_for(customer).post("/api/v1/bookings/", body, format="json", **headers)


def test_a_visit_books_every_item_back_to_back_as_one_booking(salon, colour, blow_dry, sara, day):
    response = visit(make_user(), salon, at(day, "09:00"), (colour, sara), (blow_dry, sara))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["service"], body["staff"], body["price_halalas"]) == (colour.id, sara.id, 28000)
    assert (body["start"], body["end"]) == (at(day, "09:00").isoformat(), at(day, "10:40").isoformat())
    assert body["items"] == [
        {
            "service": colour.id,
            "staff": sara.id,
            "start": at(day, "09:00").isoformat(),
            "end": at(day, "09:30").isoformat(),
            "price_halalas": 20000,
        },
        {
            "service": blow_dry.id,
            "staff": sara.id,
            "start": at(day, "10:10").isoformat(),
            "end": at(day, "10:40").isoformat(),
            "price_halalas": 8000,
        },
    ]
    assert client_for(Booking.objects.get().customer).get(f"/api/v1/bookings/{body['id']}/").json() == body


def test_the_processing_gap_is_bookable_by_another_customer(salon, colour, blow_dry, sara, day):
    assert visit(make_user(), salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)).status_code == 201
    gap = visit(make_user(), salon, at(day, "09:30"), (blow_dry, sara))
    assert gap.status_code == 201, gap.content
    assert BookingItem.objects.filter(staff=sara, active=True).count() == 3


def test_anyone_per_item_and_a_refused_item_is_named_and_nothing_is_booked(
    salon, colour, blow_dry, sara, day
):
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    make_booking(service=blow_dry, staff=sara, start=at(day, "10:10"))
    anyone = visit(make_user(), salon, at(day, "09:00"), (colour, None), (blow_dry, None))
    assert anyone.status_code == 201
    assert [item["staff"] for item in anyone.json()["items"]] == [sara.id, omar.id]
    # 10:40 (Sara's grid restarts after her 10:10 booking): she colours, but is taken at 11:50.
    make_booking(service=blow_dry, staff=sara, start=at(day, "11:50"))
    refused = visit(make_user(), salon, at(day, "10:40"), (colour, sara), (blow_dry, sara))
    assert (refused.status_code, error_code(refused), refused.json()["error"]["item"]) == (
        409,
        "slot_unavailable",
        1,
    )
    assert Booking.objects.count() == 3 and BookingItem.objects.count() == 4


def test_one_customer_is_never_in_two_visits_at_once(salon, colour, blow_dry, sara, day):
    customer = make_user()
    other = make_staff(salon, name="Other", services=[blow_dry])
    assert visit(customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)).status_code == 201
    # Sara is free in the processing gap, but the client is still there.
    busy = visit(customer, salon, at(day, "09:30"), (blow_dry, other))
    assert (busy.status_code, error_code(busy)) == (409, "customer_busy")
    assert visit(customer, salon, at(day, "11:00"), (blow_dry, other)).status_code == 201
    assert (
        visit(customer, make_salon(), at(day, "09:30"), (make_service(make_salon()), None)).status_code != 409
    )


def test_the_idempotency_key_replays_the_visit(salon, colour, blow_dry, sara, day):
    customer = make_user()
    first = visit(
        customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, sara), HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = visit(
        customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, sara), HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body, ids: body.update(service=ids["colour"]),  # both service and items
        lambda body, ids: body.update(staff=ids["sara"]),  # a top-level staff with items
        lambda body, ids: body.update(items=[]),
        lambda body, ids: body.update(items=[{"service": ids["colour"]}] * 6),
        lambda body, ids: body.update(items=[{"service": ids["colour"], "staff": "x"}]),
        lambda body, ids: body.update(items=[{"service": ids["colour"]}, {"service": 999999}]),
        lambda body, ids: body.update(
            items=[{"service": ids["colour"]}, {"service": ids["blow_dry"], "staff": 999999}]
        ),
        lambda body, ids: body.pop("items"),
        lambda body, ids: body.update(salon=999999),
    ],
)
def test_bad_visits_are_400(salon, colour, blow_dry, sara, day, mutate):
    body = {
        "salon": salon.id,
        "start": at(day, "09:00").isoformat(),
        "items": [{"service": colour.id}, {"service": blow_dry.id}],
    }
    mutate(body, {"colour": colour.id, "blow_dry": blow_dry.id, "sara": sara.id})
    response = client_for(make_user()).post("/api/v1/bookings/", body, format="json")
    assert (response.status_code, error_code(response)) == (400, "validation_error"), response.content
    assert not Booking.objects.exists()


def test_a_staff_member_who_does_not_perform_an_item_is_named(salon, colour, blow_dry, sara, day):
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    response = visit(make_user(), salon, at(day, "09:00"), (colour, sara), (colour, omar))
    assert (response.status_code, error_code(response), response.json()["error"]["item"]) == (
        400,
        "staff_not_qualified",
        1,
    )


def test_a_visit_outside_the_hours_is_refused_at_its_first_item(salon, colour, blow_dry, sara, day):
    response = visit(make_user(), salon, at(day, "08:00"), (colour, sara), (blow_dry, None))
    assert (response.status_code, error_code(response), response.json()["error"]["item"]) == (
        400,
        "outside_working_hours",
        0,
    )


# --- the visit as one booking: reschedule, cancel ---------------------------------------------------------


def test_a_reschedule_moves_the_whole_visit_and_items_may_repick_staff(salon, colour, blow_dry, sara, day):
    customer = make_user()
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    booked = visit(customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)).json()
    client = client_for(customer)
    moved = client.post(
        f"/api/v1/bookings/{booked['id']}/reschedule/", {"start": at(day, "13:00").isoformat()}
    )
    assert moved.status_code == 200, moved.content
    assert [(item["staff"], item["start"]) for item in moved.json()["items"]] == [
        (sara.id, at(day, "13:00").isoformat()),
        (sara.id, at(day, "14:10").isoformat()),
    ]
    repicked = client.post(
        f"/api/v1/bookings/{booked['id']}/reschedule/",
        {"start": at(day, "15:00").isoformat(), "items": [{"staff": sara.id}, {"staff": omar.id}]},
        format="json",
    )
    assert [item["staff"] for item in repicked.json()["items"]] == [sara.id, omar.id]
    assert BookingItem.objects.filter(active=True).count() == 2  # the old occupations are gone
    wrong = client.post(
        f"/api/v1/bookings/{booked['id']}/reschedule/",
        {"start": at(day, "16:00").isoformat(), "items": [{"staff": None}]},
        format="json",
    )
    assert (wrong.status_code, error_code(wrong)) == (400, "validation_error")
    anyone = client.post(
        f"/api/v1/bookings/{booked['id']}/reschedule/",
        {"start": at(day, "17:00").isoformat(), "items": [{"staff": None}, {"staff": None}]},
        format="json",
    )
    assert anyone.status_code == 200 and anyone.json()["start"] == at(day, "17:00").isoformat()
    make_booking(service=blow_dry, staff=sara, start=at(day, "19:10"))
    make_booking(service=blow_dry, staff=omar, start=at(day, "19:10"))
    refused = client.post(
        f"/api/v1/bookings/{booked['id']}/reschedule/",
        {"start": at(day, "18:00").isoformat(), "items": [{"staff": None}, {"staff": None}]},
        format="json",
    )
    assert (refused.status_code, error_code(refused), refused.json()["error"]["item"]) == (
        409,
        "slot_unavailable",
        1,
    )


def test_a_reschedule_keeps_the_client_out_of_two_visits(salon, colour, blow_dry, sara, day):
    customer = make_user()
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    first = visit(customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)).json()
    second = visit(customer, salon, at(day, "12:00"), (blow_dry, omar)).json()
    busy = client_for(customer).post(
        f"/api/v1/bookings/{second['id']}/reschedule/", {"start": at(day, "09:30").isoformat()}
    )
    assert (busy.status_code, error_code(busy)) == (409, "customer_busy")
    assert first["id"] != second["id"]


def test_cancelling_a_visit_frees_every_item(salon, colour, blow_dry, sara, day):
    customer = make_user()
    booked = visit(customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)).json()
    cancelled = client_for(customer).post(f"/api/v1/bookings/{booked['id']}/cancel/", {})
    assert cancelled.status_code == 200 and len(cancelled.json()["items"]) == 2
    assert not BookingItem.objects.filter(active=True).exists()
    assert visit(make_user(), salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)).status_code == 201


def test_the_customers_message_lists_every_item(salon, colour, blow_dry, sara, day):
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    customer = make_user()
    booked = visit(customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, omar)).json()
    confirmed = Notification.objects.get(kind=Kind.BOOKING_CONFIRMED)
    assert (confirmed.context["service"], confirmed.context["staff"]) == (
        "Colour، Blow-dry",
        "Sara، Omar",
    )  # the customer reads Arabic
    client_for(customer).post(f"/api/v1/bookings/{booked['id']}/cancel/", {})
    assert Notification.objects.get(kind=Kind.BOOKING_CANCELLED).context["service"] == "Colour، Blow-dry"


# --- the visit seen by the salon and reviewed -------------------------------------------------------------


def test_the_salons_list_filters_by_any_items_staff_and_the_admin_shows_the_items(
    salon, colour, blow_dry, sara, day
):
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    manager = make_user()
    salon.managers.add(manager)
    booked = visit(make_user(), salon, at(day, "09:00"), (colour, sara), (blow_dry, omar)).json()
    listed = client_for(manager).get(f"/api/v1/manage/salons/{salon.id}/bookings/", {"staff": omar.id}).json()
    assert [booking["id"] for booking in listed["results"]] == [booked["id"]]
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(make_admin())
    page = admin.get(f"/admin/bookings/booking/{booked['id']}/change/")
    assert page.status_code == 200 and "Blow-dry" in page.content.decode() and "Omar" in page.content.decode()


def test_a_visits_review_rates_each_items_staff_member(salon, colour, blow_dry, sara, day):
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    customer = make_user()
    booked = visit(customer, salon, at(day, "09:00"), (colour, sara), (blow_dry, omar)).json()
    Booking.objects.filter(pk=booked["id"]).update(status="completed")
    response = client_for(customer).post(
        f"/api/v1/bookings/{booked['id']}/review/", {"rating": 4}, format="json"
    )
    assert response.status_code == 201, response.content
    sara.refresh_from_db()
    omar.refresh_from_db()
    assert (sara.rating, sara.review_count, omar.rating, omar.review_count) == (4, 1, 4, 1)
