"""Special hours through the management API: a salon's and a staff member's spans of dates, their errors,
what availability and booking make of them, and the overlap rule under real concurrency."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import translation

from backend.bookings import weeks
from backend.bookings.models import BookingStatus
from backend.bookings.selectors import availability_for, start_check
from backend.salons import special_hours
from backend.salons.models import SpecialHours
from tests.bookings.test_booking_concurrency import race
from tests.core.test_errors import ARABIC, assert_error_shape
from tests.support.factories import (
    at,
    client_for,
    make_booking,
    make_salon,
    make_staff,
    make_user,
    next_weekday,
    week,
)

pytestmark = pytest.mark.django_db

RAMADAN = [
    {"day": "sun", "start": "21:00", "end": "03:00"},
    {"day": "thu", "start": "21:00", "end": "03:00"},
]


def url(salon, rest: str = "") -> str:
    return f"/api/v1/manage/salons/{salon.id}/{rest}"


@pytest.fixture(params=["salon", "staff"])
def spans_url(request, salon, staff) -> str:
    return url(salon, "special-hours/" if request.param == "salon" else f"staff/{staff.id}/special-hours/")


@pytest.fixture
def thursday() -> date:
    return next_weekday(3)


def span(first: date, last: date, hours=RAMADAN, **extra) -> dict:
    return {"start_date": first.isoformat(), "end_date": last.isoformat(), "hours": hours, **extra}


def test_create_list_and_delete(manager_client, spans_url, thursday):
    body = span(thursday, thursday + timedelta(days=29), reason="Ramadan")
    response = manager_client.post(spans_url, body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created == {**body, "id": created["id"], "bookings_in_the_way": 0}
    assert manager_client.get(spans_url).json()["results"] == [created]
    assert manager_client.delete(f"{spans_url}{created['id']}/").status_code == 204
    assert manager_client.get(spans_url).json()["results"] == []
    assert manager_client.delete(f"{spans_url}{created['id']}/").status_code == 404


def test_hours_are_answered_sunday_first_as_saved_and_an_empty_week_closes(
    manager_client, spans_url, thursday
):
    hours = [
        {"day": "thu", "start": "16:00:00", "end": "00:00"},
        {"day": "sun", "start": "09:00", "end": "12:00"},
    ]
    response = manager_client.post(spans_url, span(thursday, thursday, hours), format="json")
    assert response.json()["hours"] == [
        {"day": "sun", "start": "09:00", "end": "12:00"},
        {"day": "thu", "start": "16:00", "end": "00:00"},
    ]
    eid = span(thursday + timedelta(days=1), thursday + timedelta(days=4), [], reason="Eid")
    assert manager_client.post(spans_url, eid, format="json").json()["hours"] == []


def test_spans_of_one_owner_may_not_share_a_date(manager_client, spans_url, thursday):
    assert (
        manager_client.post(
            spans_url, span(thursday, thursday + timedelta(days=9)), format="json"
        ).status_code
        == 201
    )
    clash = span(thursday + timedelta(days=9), thursday + timedelta(days=12))
    response = manager_client.post(spans_url, clash, format="json", HTTP_ACCEPT_LANGUAGE="ar")
    assert ARABIC.search(assert_error_shape(response, 400, "overlapping_special_hours")["message"])
    after = span(thursday + timedelta(days=10), thursday + timedelta(days=12))
    assert manager_client.post(spans_url, after, format="json").status_code == 201


def test_the_salon_and_its_staff_members_are_different_owners(manager_client, salon, staff, thursday):
    other = make_staff(salon)
    body = span(thursday, thursday + timedelta(days=3))
    for owner in ("special-hours/", f"staff/{staff.id}/special-hours/", f"staff/{other.id}/special-hours/"):
        assert manager_client.post(url(salon, owner), body, format="json").status_code == 201
    assert len(manager_client.get(url(salon, "special-hours/")).json()["results"]) == 1
    staff_span = manager_client.get(url(salon, f"staff/{staff.id}/special-hours/")).json()["results"][0]
    # A staff member's span is not the salon's, nor another staff member's.
    assert manager_client.delete(url(salon, f"special-hours/{staff_span['id']}/")).status_code == 404
    assert (
        manager_client.delete(url(salon, f"staff/{other.id}/special-hours/{staff_span['id']}/")).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2020-01-01"}, "end_date"),
        (
            {
                "hours": [
                    {"day": "thu", "start": "16:00", "end": "02:00"},
                    {"day": "fri", "start": "01:00", "end": "05:00"},
                ]
            },
            "hours",
        ),
        (
            {
                "hours": [
                    {"day": "sat", "start": "23:00", "end": "01:00"},
                    {"day": "sun", "start": "00:30", "end": "05:00"},
                ]
            },
            "hours",
        ),
        ({"hours": [{"day": "thu", "start": "16:00", "end": "16:00"}]}, "hours"),
        ({"hours": [{"day": "thursday", "start": "16:00", "end": "18:00"}]}, "hours"),
        ({"hours": "all day"}, "hours"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"start_date": None}, "start_date"),
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_bad_spans_are_400_naming_the_field(manager_client, spans_url, thursday, change, field):
    body = {**span(thursday, thursday + timedelta(days=3)), **change}
    response = manager_client.post(spans_url, body, format="json")
    assert field in assert_error_shape(response, 400, "validation_error")["fields"]
    assert SpecialHours.objects.count() == 0


def test_a_span_lasts_at_most_366_days(manager_client, spans_url, thursday):
    too_long = span(thursday, thursday + timedelta(days=366))
    response = manager_client.post(spans_url, too_long, format="json")
    assert "end_date" in assert_error_shape(response, 400, "validation_error")["fields"]
    assert (
        manager_client.post(
            spans_url, span(thursday, thursday + timedelta(days=365)), format="json"
        ).status_code
        == 201
    )


def test_an_overlapping_range_is_named(manager_client, spans_url, thursday):
    hours = [
        {"day": "thu", "start": "16:00", "end": "02:00"},
        {"day": "fri", "start": "01:00", "end": "05:00"},
    ]
    response = manager_client.post(
        spans_url, span(thursday, thursday, hours), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert assert_error_shape(response, 400, "validation_error")["fields"] == {
        "hours": ["The range fri 01:00-05:00 overlaps thu 16:00-02:00."]
    }


def test_others_salons_and_staff_are_404(manager_client, salon, thursday):
    other = make_salon()
    body = span(thursday, thursday)
    assert manager_client.get(url(other, "special-hours/")).status_code == 404
    assert manager_client.post(url(other, "special-hours/"), body, format="json").status_code == 404
    stranger = make_staff(other)
    assert (
        manager_client.post(
            url(salon, f"staff/{stranger.id}/special-hours/"), body, format="json"
        ).status_code
        == 404
    )
    assert client_for(make_user()).get(url(salon, "special-hours/")).status_code == 404
    assert client_for(None).get(url(salon, "special-hours/")).status_code == 401


def test_bookings_in_the_way_are_the_active_ones_its_hours_no_longer_hold(
    manager_client, salon, service, staff, thursday
):
    # The salon is open 09:00-23:00; Ramadan hours are 21:00-03:00 on Thursdays.
    make_booking(service=service, staff=staff, start=at(thursday, "10:00"))  # out
    make_booking(service=service, staff=staff, start=at(thursday, "21:00"))  # held
    make_booking(service=service, staff=staff, start=at(thursday, "12:00"), status=BookingStatus.CANCELLED)
    make_booking(
        service=service, staff=staff, start=at(thursday + timedelta(days=7), "11:00")
    )  # not its dates
    body = span(thursday, thursday + timedelta(days=2), [{"day": "thu", "start": "21:00", "end": "03:00"}])
    response = manager_client.post(url(salon, "special-hours/"), body, format="json")
    assert response.json()["bookings_in_the_way"] == 1
    assert manager_client.get(url(salon, "special-hours/")).json()["results"][0]["bookings_in_the_way"] == 1
    staff_response = manager_client.post(url(salon, f"staff/{staff.id}/special-hours/"), body, format="json")
    assert staff_response.json()["bookings_in_the_way"] == 1


def test_special_hours_replace_the_week_for_availability_and_booking(salon, service, staff, thursday):
    # Thursday 21:00-03:00 for the salon; the staff member works 20:00-04:00 those days.
    SpecialHours.objects.create(salon=salon, start_date=thursday, end_date=thursday, hours=RAMADAN)
    SpecialHours.objects.create(
        salon=salon,
        staff=staff,
        start_date=thursday,
        end_date=thursday + timedelta(days=1),
        hours=[{"day": "thu", "start": "20:00", "end": "04:00"}],
    )
    slots = availability_for(salon=salon, service=service, date_from=thursday, days=2)
    starts = [slot.start for slot in slots]
    # Thursday's night range spills into Friday, whose own hours the span leaves closed (Friday absent).
    assert starts[0] == at(thursday, "21:00") and starts[-1] == at(thursday + timedelta(days=1), "02:00")
    assert all(slot.end <= at(thursday + timedelta(days=1), "03:00") for slot in slots)
    friday_night = at(thursday + timedelta(days=1), "00:30")
    assert (
        start_check(salon=salon, service=service, staff_id=staff.id, start=friday_night).reasons[staff.id]
        is None
    )


def test_a_booking_at_half_past_midnight_belongs_to_the_night_range(salon, service, staff):
    salon.business_hours.all().delete()
    staff.working_hours.all().delete()
    for hours in week("16:00-02:00"):
        salon.business_hours.create(weekday=hours[0], start=hours[1], end=hours[2])
        staff.working_hours.create(weekday=hours[0], start=hours[1], end=hours[2])
    thursday = next_weekday(3)
    friday_half_past_midnight = at(thursday + timedelta(days=1), "00:30")
    # A service may run to the range's end, not past it.
    late = at(thursday + timedelta(days=1), "02:00") - timedelta(minutes=service.duration_minutes)
    assert start_check(salon=salon, service=service, staff_id=staff.id, start=late).reasons[staff.id] is None
    too_late = late + timedelta(minutes=15)
    assert (
        start_check(salon=salon, service=service, staff_id=staff.id, start=too_late).reasons[staff.id]
        is not None
    )
    listed = availability_for(salon=salon, service=service, date_from=thursday, days=1)
    assert listed[-1].start == late and listed[-1].end == at(thursday + timedelta(days=1), "02:00")
    client = client_for(make_user())
    response = client.post(
        "/api/v1/bookings/",
        {
            "salon": salon.id,
            "service": service.id,
            "staff": staff.id,
            "start": friday_half_past_midnight.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (
        response.json()["end"]
        == (friday_half_past_midnight + timedelta(minutes=service.duration_minutes)).isoformat()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_overlapping_spans_at_once_one_wins_the_other_is_400():
    salon = make_salon()
    manager = make_user()
    salon.managers.add(manager)
    thursday = next_weekday(3)
    clients = [client_for(manager) for _ in range(4)]
    responses = race(
        [
            (
                lambda client=client, offset=offset: client.post(
                    url(salon, "special-hours/"),
                    span(thursday + timedelta(days=offset), thursday + timedelta(days=offset + 5)),
                    format="json",
                )
            )
            for offset, client in enumerate(clients)
        ]
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 400, 400, 400]
    assert all(
        response.json()["error"]["code"] == "overlapping_special_hours"
        for response in responses
        if response.status_code == 400
    )
    assert SpecialHours.objects.filter(salon=salon).count() == 1


# --- The rules below the API: the model's own checks, the service's mapping of database refusals ------
def test_the_model_refuses_bad_weeks_and_a_staff_member_of_another_salon(salon, staff, thursday):
    stranger = make_staff(make_salon())
    with translation.override("en"):
        for hours in ("all day", [{"day": "thu"}], [{"day": "someday", "start": "10:00", "end": "11:00"}]):
            with pytest.raises(ValidationError, match="must be a list of"):
                SpecialHours(salon=salon, start_date=thursday, end_date=thursday, hours=hours).full_clean()
        with pytest.raises(ValidationError, match="another salon"):
            SpecialHours(salon=salon, staff=stranger, start_date=thursday, end_date=thursday).full_clean()
    SpecialHours(salon=salon, staff=staff, start_date=thursday, end_date=thursday, hours=RAMADAN).full_clean()


def test_other_database_refusals_are_not_reported_as_overlaps(salon, thursday, monkeypatch):
    monkeypatch.setattr(special_hours, "MAX_SPECIAL_HOURS_DAYS", 1000)  # past the check constraint's 366
    with pytest.raises(IntegrityError, match="special_hours_at_most_366_days"):
        special_hours.special_hours_create(
            salon=salon, start_date=thursday, end_date=thursday + timedelta(days=400), hours=[]
        )


def test_an_engine_span_must_not_end_before_it_starts():
    with pytest.raises(ValueError, match="on or after its first day"):
        weeks.SpecialHours(date(2027, 1, 2), date(2027, 1, 1), weeks.WeeklyHours())
