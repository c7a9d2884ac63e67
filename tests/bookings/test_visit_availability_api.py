"""GET availability for a visit: `service` repeated, the starts at which the whole visit fits."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.salons.models import StaffService, WorkingHours
from tests.support.api import error_code
from tests.support.factories import at, make_booking, make_salon, make_service, make_staff, next_weekday

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int, code: str) -> None:
    assert (response.status_code, error_code(response)) == (status, code), response.content


@pytest.fixture
def day():
    return next_weekday(0)  # the factory salon and staff work 09:00-21:00 (make_salon)


@pytest.fixture
def visit(day):
    salon = make_salon()
    colour = make_service(
        salon, name="Colour", duration_minutes=30, processing_minutes=40, price_halalas=20000
    )
    blow_dry = make_service(salon, name="Blow-dry", duration_minutes=30, price_halalas=8000)
    sara = make_staff(salon, name="Sara", services=[colour, blow_dry])
    return salon, colour, blow_dry, sara


def url(salon, *services, **params):
    query = "&".join(
        [f"service={service.id}" for service in services] + [f"{k}={v}" for k, v in params.items()]
    )
    return f"/api/v1/salons/{salon.id}/availability/?{query}"


def test_a_visit_lists_its_items_back_to_back_after_the_processing_time(api_client, visit, day):
    salon, colour, blow_dry, sara = visit
    body = api_client.get(url(salon, colour, blow_dry, date=day)).json()
    first = body["slots"][0]
    assert first == {
        "start": at(day, "09:00").isoformat(),
        "end": at(day, "10:40").isoformat(),
        "staff_id": sara.id,
        "items": [
            {
                "service": colour.id,
                "staff_id": sara.id,
                "start": at(day, "09:00").isoformat(),
                "end": at(day, "09:30").isoformat(),
            },
            {
                "service": blow_dry.id,
                "staff_id": sara.id,
                "start": at(day, "10:10").isoformat(),
                "end": at(day, "10:40").isoformat(),
            },
        ],
    }


def test_the_processing_gap_is_free_for_others_and_a_busy_later_item_removes_the_start(
    api_client, visit, day
):
    salon, colour, blow_dry, sara = visit
    # Someone else's blow-dry in Sara's processing gap of a 09:00 visit (09:30-10:10): it still fits.
    make_booking(service=blow_dry, staff=sara, start=at(day, "09:30"))
    starts = [
        slot["start"] for slot in api_client.get(url(salon, colour, blow_dry, date=day)).json()["slots"]
    ]
    assert at(day, "09:00").isoformat() in starts
    # A 12:00 colour would need Sara at 13:10 for the blow-dry: taken, so 12:00 is not offered.
    make_booking(service=blow_dry, staff=sara, start=at(day, "13:10"))
    starts = [
        slot["start"] for slot in api_client.get(url(salon, colour, blow_dry, date=day)).json()["slots"]
    ]
    assert at(day, "12:00").isoformat() not in starts
    assert at(day, "11:00").isoformat() in starts  # colour 11:00-11:30, blow-dry 12:10-12:40


def test_any_staff_per_item_and_staff_for_every_item(api_client, visit, day):
    salon, colour, blow_dry, sara = visit
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    make_booking(service=blow_dry, staff=sara, start=at(day, "10:10"))
    slot = next(
        slot
        for slot in api_client.get(url(salon, colour, blow_dry, date=day)).json()["slots"]
        if slot["start"] == at(day, "09:00").isoformat()
    )
    assert [item["staff_id"] for item in slot["items"]] == [sara.id, omar.id]
    only_sara = api_client.get(url(salon, colour, blow_dry, date=day, staff=sara.id)).json()["slots"]
    assert at(day, "09:00").isoformat() not in [slot["start"] for slot in only_sara]
    assert {item["staff_id"] for slot in only_sara for item in slot["items"]} == {sara.id}
    # Omar does not colour: as every item's staff member, he is not qualified.
    response = api_client.get(url(salon, colour, blow_dry, date=day, staff=omar.id))
    assert_error_shape(response, 400, "staff_not_qualified")


def test_the_schedule_load_stays_one_statement_whatever_the_items(api_client, visit, day):
    salon, colour, blow_dry, sara = visit
    beard = make_service(salon, name="Beard", duration_minutes=15)
    StaffService.objects.create(staff=sara, service=beard)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url(salon, colour, blow_dry, beard, colour, date=day, days=7))
    assert response.status_code == 200 and response.json()["slots"]
    schedule_reads = [
        query for query in queries.captured_queries if WorkingHours._meta.db_table in query["sql"]
    ]
    assert len(schedule_reads) == 1 and len(queries.captured_queries) == 2


@pytest.mark.parametrize("count", [0, 6])
def test_one_to_five_services(api_client, visit, day, count):
    salon, colour, *_ = visit
    response = api_client.get(url(salon, *[colour] * count, date=day))
    assert_error_shape(response, 400, "validation_error")


def test_an_unknown_service_among_them_is_a_400(api_client, visit, day):
    salon, colour, *_ = visit
    other = make_service(make_salon())
    assert_error_shape(api_client.get(url(salon, colour, other, date=day)), 400, "validation_error")
    assert (
        api_client.get(
            f"/api/v1/salons/999999/availability/?service={colour.id}&service=1&date={day}"
        ).status_code
        == 404
    )


def test_days_past_the_horizon_have_no_visit_slots(api_client, visit, day):
    salon, colour, blow_dry, _ = visit
    far = day + timedelta(days=400)
    assert api_client.get(url(salon, colour, blow_dry, date=far)).json()["slots"] == []
