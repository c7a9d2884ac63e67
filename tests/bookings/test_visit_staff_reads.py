"""The staff-side reads of a visit go through its items, not the booking's own `staff` (its first item's):
what a time off, a closure or special hours are in the way of and what their cancellation cancels, a
manager cancelling a staff member's upcoming bookings, the data export, the admin's search and the time a
cancelled visit frees. In each, the visit's SECOND item is another staff member's (issue 22)."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backend.bookings.bulk_cancellations import bookings_cancel_in_the_way
from backend.bookings.models import BookingStatus
from backend.bookings.services import booking_cancel
from backend.salons.models import SpecialHours
from backend.salons.services import closure_create, time_off_create
from backend.waitlist.matching import waitlist_match_salon
from backend.waitlist.models import FreedTime, WaitlistOffer
from backend.waitlist.services import waitlist_join
from tests.support.factories import (
    at,
    client_for,
    make_admin,
    make_service,
    make_staff,
    make_user,
    make_visit,
    next_weekday,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def day() -> date:
    return next_weekday(0)


@pytest.fixture
def cut(salon):
    return make_service(salon, name="Cut", duration_minutes=30, price_halalas=4000)


@pytest.fixture
def beard(salon):
    return make_service(salon, name="Beard", duration_minutes=30, price_halalas=2000)


@pytest.fixture
def ali(salon, cut):
    return make_staff(salon, name="Ali", services=[cut])


@pytest.fixture
def badr(salon, beard):
    return make_staff(salon, name="Badr", services=[beard])


@pytest.fixture
def customer():
    return make_user(name="Noura")


@pytest.fixture
def visit(cut, beard, ali, badr, customer, day):
    """Cut with Ali 10:00-10:30, then beard with Badr 10:30-11:00: the booking row names Ali only."""
    return make_visit([(cut, ali, at(day, "10:00")), (beard, badr, at(day, "10:30"))], customer=customer)


def manage(salon, rest: str) -> str:
    return f"/api/v1/manage/salons/{salon.id}/{rest}"


def window(day: date, start: str, end: str) -> dict:
    return {"start": at(day, start).isoformat(), "end": at(day, end).isoformat()}


def test_a_time_off_is_in_the_way_of_the_visit_through_its_staff_members_own_item(
    salon, manager, visit, ali, badr, day
):
    client = client_for(manager)
    # Badr's item (10:30-11:00) is in the way of Badr's time off, not of Ali's at that time: Ali's item
    # ended at 10:30, though the visit itself runs to 11:00.
    for staff, expected in ((badr, 1), (ali, 0)):
        created = client.post(manage(salon, f"staff/{staff.id}/time-off/"), window(day, "10:30", "11:00"))
        assert created.status_code == 201, created.content
        assert created.json()["bookings_in_the_way"] == expected
        listed = client.get(manage(salon, f"staff/{staff.id}/time-off/")).json()["results"]
        assert [row["bookings_in_the_way"] for row in listed] == [expected]


def test_a_time_off_cancelling_its_bookings_cancels_the_visit_of_its_second_item(visit, ali, badr, day):
    alis = time_off_create(staff=ali, start=at(day, "10:30"), end=at(day, "12:00"), cancel_bookings=True)
    assert bookings_cancel_in_the_way(kind="time_off", row_id=alis.pk) == 0
    visit.refresh_from_db()
    assert visit.status == BookingStatus.CONFIRMED  # nothing of Ali's in that time
    badrs = time_off_create(staff=badr, start=at(day, "10:30"), end=at(day, "12:00"), cancel_bookings=True)
    assert bookings_cancel_in_the_way(kind="time_off", row_id=badrs.pk) == 0
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by) == (BookingStatus.CANCELLED, "salon")
    assert not visit.items.filter(active=True).exists()  # every occupation of the visit freed


def test_a_manager_cancelling_a_staff_members_upcoming_bookings_finds_their_second_items(
    salon, manager, visit, ali, badr, day
):
    client = client_for(manager)
    # A window over Badr's item, asked of Ali, and one over Ali's item, asked of Badr: neither is theirs.
    for staff, times in ((ali, ("10:30", "11:00")), (badr, ("10:00", "10:30"))):
        url = manage(salon, f"staff/{staff.id}/cancel-upcoming/")
        answer = client.post(url, {**window(day, *times), "reason": "sick"}, format="json")
        assert answer.json() == {"cancelled": 0, "refund_halalas": 0, "remaining": 0}
    answer = client.post(manage(salon, f"staff/{badr.id}/cancel-upcoming/"), {"reason": "Badr left"})
    assert answer.json() == {"cancelled": 1, "refund_halalas": 0, "remaining": 0}
    visit.refresh_from_db()
    assert (visit.status, visit.cancellation_reason) == (BookingStatus.CANCELLED, "Badr left")


def test_special_hours_count_the_visits_whose_own_item_they_no_longer_hold(
    salon, manager, visit, ali, badr, day
):
    client = client_for(manager)
    # Hours to 10:30 that day: they hold Ali's item and not Badr's.
    body = {
        "start_date": str(day),
        "end_date": str(day),
        "hours": [{"day": "mon", "start": "09:00", "end": "10:30"}],
    }
    for owner, expected in ((f"staff/{badr.id}/", 1), (f"staff/{ali.id}/", 0), ("", 1)):
        created = client.post(manage(salon, f"{owner}special-hours/"), body, format="json")
        assert created.status_code == 201, created.content
        assert created.json()["bookings_in_the_way"] == expected, owner
        listed = client.get(manage(salon, f"{owner}special-hours/")).json()["results"]
        assert [row["bookings_in_the_way"] for row in listed] == [expected]
    assert SpecialHours.objects.count() == 3


def test_a_closure_counts_and_cancels_a_visit_whose_later_item_starts_on_its_date(
    salon, manager, cut, beard, ali, badr, day
):
    # Cut with Ali 23:30 the day before, beard with Badr from 00:00 on the closed date.
    late = make_visit([(cut, ali, at(day, "23:30")), (beard, badr, at(day + timedelta(days=1), "00:00"))])
    closed = day + timedelta(days=1)
    closure = closure_create(salon=salon, date=closed, end_date=closed, reason="Eid", cancel_bookings=True)
    listed = client_for(manager).get(manage(salon, "closures/")).json()["results"]
    assert [row["bookings_in_the_way"] for row in listed] == [1]
    assert bookings_cancel_in_the_way(kind="closure", row_id=closure.pk) == 0
    late.refresh_from_db()
    assert late.status == BookingStatus.CANCELLED


def test_the_data_export_lists_every_item_of_a_visit(visit, customer, day, django_assert_num_queries):
    from backend.bookings.selectors import booking_personal_data

    with django_assert_num_queries(2):  # the bookings, then their items with services and staff
        (exported,) = booking_personal_data(user=customer)
    assert (exported["id"], exported["staff"], exported["price_halalas"]) == (visit.pk, "Ali", 6000)
    assert exported["items"] == [
        {
            "service": "Cut",
            "staff": "Ali",
            "start": at(day, "10:00"),
            "end": at(day, "10:30"),
            "price_halalas": 4000,
        },
        {
            "service": "Beard",
            "staff": "Badr",
            "start": at(day, "10:30"),
            "end": at(day, "11:00"),
            "price_halalas": 2000,
        },
    ]
    api = client_for(customer).get("/api/v1/me/export/").json()["bookings"]
    assert [item["staff"] for item in api[0]["items"]] == ["Ali", "Badr"]


def test_the_admin_finds_a_visit_by_the_staff_member_of_its_second_item(visit):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_admin())
    response = client.get("/admin/bookings/booking/", {"q": "Badr"})
    assert response.status_code == 200
    assert [booking.pk for booking in response.context["cl"].result_list] == [visit.pk]


def test_cancelling_a_visit_offers_the_second_items_time_to_its_staff_members_waitlist(
    salon, manager, visit, beard, badr, day
):
    salon.slot_step_minutes = 30
    salon.save(update_fields=["slot_step_minutes"])
    # Badr's only time that day in the entry's window is the visit's second item's.
    waiting = waitlist_join(
        customer=make_user(),
        service=beard,
        staff_id=badr.pk,
        day=day,
        from_time=time(10, 30),
        to_time=time(11),
    )
    FreedTime.objects.all().delete()
    booking_cancel(booking_id=visit.pk, actor=manager)
    assert waitlist_match_salon(salon_id=salon.pk) == 1
    offer = WaitlistOffer.objects.get(entry=waiting)
    assert (offer.start, offer.staff_id) == (at(day, "10:30"), badr.pk)


def test_a_visit_running_into_the_next_date_frees_both_dates(salon, manager, cut, beard, ali, badr, day):
    late = make_visit([(cut, ali, at(day, "23:30")), (beard, badr, at(day + timedelta(days=1), "00:00"))])
    waitlist_join(customer=make_user(), service=beard, day=day + timedelta(days=1))
    FreedTime.objects.all().delete()
    booking_cancel(booking_id=late.pk, actor=manager)
    assert list(FreedTime.objects.values_list("first_day", "last_day")) == [(day, day + timedelta(days=1))]


def test_the_counts_cost_the_same_queries_for_more_rows_and_visits(
    salon, manager, cut, beard, ali, badr, day
):
    client = client_for(manager)
    lists = [manage(salon, f"staff/{badr.id}/time-off/"), manage(salon, f"staff/{badr.id}/special-hours/")]

    def add_day(offset: int) -> None:
        date_ = day + timedelta(days=offset)
        make_visit([(cut, ali, at(date_, "10:00")), (beard, badr, at(date_, "10:30"))])
        time_off_create(staff=badr, start=at(date_, "10:45"), end=at(date_, "12:00"))
        # A day off for Badr: nothing of theirs held that day.
        SpecialHours.objects.create(salon=salon, staff=badr, start_date=date_, end_date=date_, hours=[])

    def statements() -> list[int]:
        counts = []
        for url in lists:
            with CaptureQueriesContext(connection) as queries:
                rows = client.get(url).json()["results"]
            assert {row["bookings_in_the_way"] for row in rows} == {1}
            counts.append(len(queries.captured_queries))
        return counts

    add_day(0)
    few = statements()
    for offset in range(1, 5):
        add_day(offset)
    assert statements() == few
