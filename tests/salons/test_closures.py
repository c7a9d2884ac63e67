"""Closures over several days through the management API, the schedule and the admin, and the
`cancel_bookings` of closures and time off (issue 19)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from backend.bookings.bulk_cancellations import bookings_cancel_in_the_way
from backend.bookings.models import BookingStatus
from backend.bookings.selectors import availability_for
from backend.salons.models import MAX_CLOSURE_DAYS, Closure
from backend.salons.services import CLOSURE_OVERLAP_MESSAGE, closure_create, time_off_create
from tests.core.test_errors import ARABIC, assert_error_shape
from tests.support.factories import at, make_admin, make_booking, make_salon, make_staff
from tests.support.factories import next_weekday as weekday_ahead

pytestmark = pytest.mark.django_db


def url(salon, rest: str = "closures/") -> str:
    return f"/api/v1/manage/salons/{salon.id}/{rest}"


def post(client, salon, body: dict, **extra):
    return client.post(url(salon), body, format="json", **extra)


@pytest.fixture
def monday() -> date:
    return weekday_ahead(0)


def test_a_closure_over_several_days_answers_its_span(manager_client, salon, monday):
    body = {"date": str(monday), "end_date": str(monday + timedelta(days=3)), "reason": "Eid"}
    created = post(manager_client, salon, body)
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "date": str(monday),
        "end_date": str(monday + timedelta(days=3)),
        "reason": "Eid",
        "bookings_in_the_way": 0,
        "cancellation": None,
    }
    assert manager_client.get(url(salon)).json()["results"] == [created.json()]
    closure = Closure.objects.get()
    assert str(closure) == f"{monday} - {monday + timedelta(days=3)}"
    assert closure.cancel_requested_at is None


def test_without_end_date_a_closure_is_its_one_date(manager_client, salon, monday):
    created = post(manager_client, salon, {"date": str(monday)})
    assert created.json()["end_date"] == str(monday)
    assert str(Closure.objects.get()) == str(monday)


def test_every_date_of_the_span_and_none_around_it_is_closed(salon, service, monday):
    staff = make_staff(salon, services=[service])
    Closure.objects.create(salon=salon, date=monday + timedelta(days=1), end_date=monday + timedelta(days=3))
    # Older, longer and later closures too: each date in the asked range is closed once.
    Closure.objects.create(salon=salon, date=monday - timedelta(days=30), end_date=monday - timedelta(days=1))
    Closure.objects.create(salon=salon, date=monday + timedelta(days=6))
    slots = availability_for(salon=salon, service=service, date_from=monday, days=7, staff_id=staff.id)
    open_dates = {slot.start.astimezone(salon.tz).date() for slot in slots}
    assert open_dates == {monday, monday + timedelta(days=4), monday + timedelta(days=5)}
    # A range that starts inside a closure: its first dates are closed, the rest open.
    later = availability_for(salon=salon, service=service, date_from=monday + timedelta(days=2), days=3)
    assert {slot.start.astimezone(salon.tz).date() for slot in later} == {monday + timedelta(days=4)}


def test_the_count_covers_every_date_of_the_span(manager_client, salon, service, monday):
    staff = make_staff(salon, services=[service])
    make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    make_booking(service=service, staff=staff, start=at(monday + timedelta(days=2), "23:30"))
    make_booking(service=service, staff=staff, start=at(monday + timedelta(days=3), "00:30"))  # the day after
    make_booking(service=service, staff=staff, start=at(monday, "12:00"), status=BookingStatus.CANCELLED)
    body = {"date": str(monday), "end_date": str(monday + timedelta(days=2))}
    assert post(manager_client, salon, body).json()["bookings_in_the_way"] == 2


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (0, 0),  # the same date
        (-2, 0),  # ends on its first date
        (3, 5),  # starts on its last date
        (1, 2),  # inside it
        (-5, 10),  # around it
    ],
)
def test_a_closure_sharing_a_date_with_another_is_refused(manager_client, salon, monday, first, last):
    post(manager_client, salon, {"date": str(monday), "end_date": str(monday + timedelta(days=3))})
    body = {"date": str(monday + timedelta(days=first)), "end_date": str(monday + timedelta(days=last))}
    response = post(manager_client, salon, body)
    assert "date" in assert_error_shape(response, 400, "validation_error")["fields"]
    assert Closure.objects.count() == 1


def test_closures_next_to_each_other_and_of_other_salons_are_fine(manager_client, salon, monday):
    post(manager_client, salon, {"date": str(monday), "end_date": str(monday + timedelta(days=3))})
    after = post(manager_client, salon, {"date": str(monday + timedelta(days=4))})
    before = post(manager_client, salon, {"date": str(monday - timedelta(days=1))})
    assert (after.status_code, before.status_code) == (201, 201)
    Closure.objects.create(salon=make_salon(), date=monday, end_date=monday + timedelta(days=3))
    assert Closure.objects.count() == 4


def test_the_database_refuses_an_overlap_and_a_bad_span_too(salon, monday):
    Closure.objects.create(salon=salon, date=monday, end_date=monday + timedelta(days=3))
    for first, last in [(monday + timedelta(days=3), monday + timedelta(days=4)), (monday, monday)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Closure.objects.create(salon=salon, date=first, end_date=last)
    other = make_salon()
    for last in (monday - timedelta(days=1), monday + timedelta(days=MAX_CLOSURE_DAYS)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Closure.objects.create(salon=other, date=monday, end_date=last)
    Closure.objects.create(salon=other, date=monday, end_date=monday + timedelta(days=MAX_CLOSURE_DAYS - 1))


def test_a_race_for_the_same_dates_is_a_400_not_a_500(salon, monday, monkeypatch):
    """The check before the insert saw no closure; another request committed one before the insert."""
    validate = Closure.full_clean

    def another_request_commits_first(closure, *args, **kwargs):
        Closure.objects.create(salon=salon, date=monday)
        return validate(closure, *args, **kwargs)

    monkeypatch.setattr(Closure, "full_clean", another_request_commits_first)
    with pytest.raises(ValidationError) as refused:
        closure_create(salon=salon, date=monday, end_date=monday + timedelta(days=1))
    assert refused.value.message_dict == {"date": [str(CLOSURE_OVERLAP_MESSAGE)]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2027-04-05", "end_date": "2027-04-04"}, "end_date"),
        ({"date": "2027-04-05", "end_date": "2028-04-05"}, "end_date"),  # 367 dates
        ({"date": "2027-04-05", "end_date": "2027/04/06"}, "end_date"),
        ({"date": "2027-04-05", "end_date": None}, "end_date"),
        ({"date": "2027-04-05", "end_date": 20270406}, "end_date"),
        ({"date": "2027-04-05", "cancel_bookings": "yes"}, "cancel_bookings"),
        ({"date": "2027-04-05", "cancel_bookings": 1}, "cancel_bookings"),
        ({"date": "2027-04-05", "cancel_bookings": None}, "cancel_bookings"),
        ({"end_date": "2027-04-05"}, "date"),
    ],
)
def test_bad_spans_and_flags_are_400(manager_client, salon, body, field):
    response = post(manager_client, salon, body)
    assert field in assert_error_shape(response, 400, "validation_error")["fields"]
    assert not Closure.objects.exists()


def test_a_year_of_dates_is_the_longest_closure(manager_client, salon):
    body = {"date": "2027-04-05", "end_date": str(date(2027, 4, 5) + timedelta(days=MAX_CLOSURE_DAYS - 1))}
    assert post(manager_client, salon, body).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2027-04-05", "end_date": "2027-04-04"},
        {"date": "2027-04-05", "end_date": "2028-04-05"},
    ],
)
def test_span_errors_are_in_arabic_too(manager_client, salon, body):
    response = post(manager_client, salon, body, HTTP_ACCEPT_LANGUAGE="ar")
    assert ARABIC.search(assert_error_shape(response, 400, "validation_error")["fields"]["end_date"][0])


def test_the_overlap_error_is_in_arabic_too(manager_client, salon):
    post(manager_client, salon, {"date": "2027-04-05"})
    response = post(manager_client, salon, {"date": "2027-04-05"}, HTTP_ACCEPT_LANGUAGE="ar")
    assert ARABIC.search(assert_error_shape(response, 400, "validation_error")["fields"]["date"][0])


# --- cancel_bookings ---------------------------------------------------------------------------------------
def test_cancel_bookings_records_the_request_and_enqueues_after_commit(
    manager_client, salon, service, monday, django_capture_on_commit_callbacks, monkeypatch
):
    staff = make_staff(salon, services=[service])
    make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    make_booking(service=service, staff=staff, start=at(monday + timedelta(days=1), "10:00"))
    published = []
    from worker.tasks.bookings import cancel_bookings_in_the_way

    monkeypatch.setattr(cancel_bookings_in_the_way, "apply_async", lambda args, **kw: published.append(args))
    body = {"date": str(monday), "end_date": str(monday + timedelta(days=1)), "cancel_bookings": True}
    with django_capture_on_commit_callbacks(execute=True):
        created = post(manager_client, salon, body)
    assert created.status_code == 201, created.content
    assert created.json()["cancellation"] == "pending"
    assert created.json()["bookings_in_the_way"] == 2
    assert "cancel_bookings" not in created.json()
    closure = Closure.objects.get()
    assert published == [("closure", closure.pk)]
    assert closure.cancel_requested_at == closure.cancel_progress_at is not None

    # What the worker does (tests/bookings/test_bulk_cancellations.py): the list shows it falling to 0.
    assert bookings_cancel_in_the_way(kind="closure", row_id=closure.pk) == 0
    [row] = manager_client.get(url(salon)).json()["results"]
    assert (row["bookings_in_the_way"], row["cancellation"]) == (0, "done")


def test_cancel_bookings_false_changes_nothing(
    manager_client, salon, monday, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        created = post(manager_client, salon, {"date": str(monday), "cancel_bookings": False})
    assert created.json()["cancellation"] is None
    assert callbacks == []


def test_time_off_takes_cancel_bookings_too(
    manager_client, salon, service, monday, django_capture_on_commit_callbacks, monkeypatch
):
    staff = make_staff(salon, services=[service])
    make_booking(service=service, staff=staff, start=at(monday, "10:00"))
    published = []
    from worker.tasks.bookings import cancel_bookings_in_the_way

    monkeypatch.setattr(cancel_bookings_in_the_way, "apply_async", lambda args, **kw: published.append(args))
    base = url(salon, f"staff/{staff.id}/time-off/")
    body = {
        "start": at(monday, "09:00").isoformat(),
        "end": at(monday, "13:00").isoformat(),
        "cancel_bookings": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = manager_client.post(base, body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["bookings_in_the_way"], created.json()["cancellation"]) == (1, "pending")
    assert published == [("time_off", created.json()["id"])]
    bookings_cancel_in_the_way(kind="time_off", row_id=created.json()["id"])
    [row] = manager_client.get(base).json()["results"]
    assert (row["bookings_in_the_way"], row["cancellation"]) == (0, "done")


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_time_off_cancel_bookings_is_a_boolean(manager_client, salon, monday, flag):
    staff = make_staff(salon)
    body = {
        "start": at(monday, "09:00").isoformat(),
        "end": at(monday, "13:00").isoformat(),
        "cancel_bookings": flag,
    }
    response = manager_client.post(url(salon, f"staff/{staff.id}/time-off/"), body, format="json")
    assert "cancel_bookings" in assert_error_shape(response, 400, "validation_error")["fields"]


# --- admin -----------------------------------------------------------------------------------------------
def test_the_admin_lists_closures_with_their_span_and_cancellation(salon, monday):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(make_admin())
    asked = closure_create(salon=salon, date=monday, end_date=monday + timedelta(days=3), reason="Eid")
    Closure.objects.filter(pk=asked.pk).update(cancel_requested_at=asked.created_at)
    plain = Closure.objects.create(salon=salon, date=monday + timedelta(days=10), reason="Inventory")
    listing = browser.get("/admin/salons/closure/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Eid" in page and "Inventory" in page and "pending" in page
    assert f"/admin/salons/closure/{plain.pk}/change/" in page
    change = browser.get(f"/admin/salons/closure/{asked.pk}/change/")
    assert change.status_code == 200 and "pending" in change.content.decode()
    salon_page = browser.get(f"/admin/salons/salon/{salon.pk}/change/")
    assert salon_page.status_code == 200 and 'name="closures-0-end_date"' in salon_page.content.decode()
    staff = make_staff(salon)
    time_off_create(staff=staff, start=at(monday, "09:00"), end=at(monday, "13:00"), cancel_bookings=True)
    staff_page = browser.get(f"/admin/salons/staffmember/{staff.pk}/change/")
    assert staff_page.status_code == 200 and "pending" in staff_page.content.decode()
    filtered = browser.get("/admin/salons/closure/?cancel_requested_at__isempty=1").content.decode()
    assert "Inventory" in filtered and "Eid" not in filtered
