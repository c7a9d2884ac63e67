"""One customer holds at most the salon's `max_unpaid_holds` unpaid bookings there (issue 16: eight holds
took a 2-hour window from 48 free starts to 0). The race between one customer's parallel creates is in
test_booking_concurrency.py."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.salons.models import DEFAULT_MAX_UNPAID_HOLDS
from tests.support.factories import (
    at,
    client_for,
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
    return next_weekday(0)


@pytest.fixture
def manager():
    return make_user(name="Manager")


@pytest.fixture
def salon(manager):
    return make_salon(managers=[manager], prepayment_required=True)


@pytest.fixture
def service(salon):
    return make_service(salon, duration_minutes=30)


@pytest.fixture
def team(salon, service):
    return [make_staff(salon, services=[service], name=f"Staff {n}") for n in range(4)]


@pytest.fixture
def customer():
    return make_user()


def hold(customer, salon, service, start, staff=None):
    body = {"salon": salon.id, "service": service.id, "start": start.isoformat()}
    if staff is not None:
        body["staff"] = staff.id
    return client_for(customer).post("/api/v1/bookings/", body, format="json")


def free_starts(salon, service, day) -> int:
    query = {"service": service.id, "date": day.isoformat()}
    return len(client_for(None).get(f"/api/v1/salons/{salon.id}/availability/", query).json()["slots"])


def test_the_audit_case_eight_holds_stop_at_two(salon, service, team, customer, day):
    before = free_starts(salon, service, day)
    responses = [
        hold(customer, salon, service, at(day, "17:00") + timedelta(minutes=30 * n)) for n in range(8)
    ]
    assert [response.status_code for response in responses] == [201, 201] + [409] * 6
    refused = responses[2].json()["error"]
    assert refused["code"] == "too_many_holds" and refused["max_unpaid_holds"] == DEFAULT_MAX_UNPAID_HOLDS
    assert free_starts(salon, service, day) == before - 2


def test_the_limit_is_per_customer_and_per_salon(salon, service, team, customer, day):
    for n in range(2):
        assert (
            hold(customer, salon, service, at(day, "10:00") + timedelta(minutes=30 * n), team[n]).status_code
            == 201
        )
    assert hold(make_user(), salon, service, at(day, "10:00"), team[2]).status_code == 201  # someone else
    elsewhere = make_salon(prepayment_required=True)
    other_service = make_service(elsewhere)
    make_staff(elsewhere, services=[other_service])
    assert hold(customer, elsewhere, other_service, at(day, "10:00")).status_code == 201


def test_only_live_holds_count(salon, service, team, customer, day):
    now = timezone.now()
    for wall, status, expires in [
        ("12:00", BookingStatus.PENDING_PAYMENT, now - timedelta(minutes=1)),  # past its time
        ("13:00", BookingStatus.EXPIRED, now - timedelta(hours=1)),
        ("14:00", BookingStatus.CONFIRMED, None),  # paid
        ("15:00", BookingStatus.CANCELLED, None),
    ]:
        make_booking(
            service=service,
            staff=team[0],
            customer=customer,
            start=at(day, wall),
            status=status,
            hold_expires_at=expires,
        )
    assert hold(customer, salon, service, at(day, "10:30"), team[1]).status_code == 201
    assert hold(customer, salon, service, at(day, "11:00"), team[2]).status_code == 201
    assert hold(customer, salon, service, at(day, "11:30"), team[3]).status_code == 409


def test_paying_for_a_hold_frees_a_place(salon, service, team, customer, day):
    first = hold(customer, salon, service, at(day, "10:00"), team[0]).json()
    hold(customer, salon, service, at(day, "10:30"), team[1])
    assert hold(customer, salon, service, at(day, "11:00"), team[2]).status_code == 409
    Booking.objects.filter(pk=first["id"]).update(status=BookingStatus.CONFIRMED, hold_expires_at=None)
    assert hold(customer, salon, service, at(day, "11:00"), team[2]).status_code == 201


def test_one_customer_is_never_in_two_visits_at_once_in_a_salon(salon, service, team, customer, day):
    """Issue 22: the client is never booked in two places at once (customer_busy), held or paid."""
    assert hold(customer, salon, service, at(day, "10:00"), team[0]).status_code == 201
    busy = hold(customer, salon, service, at(day, "10:00"), team[1])
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "customer_busy"
    assert hold(customer, salon, service, at(day, "10:30"), team[1]).status_code == 201  # touching is fine


def test_a_salon_without_prepayment_has_no_holds_to_limit(salon, service, team, customer, day):
    salon.prepayment_required = False
    salon.save()
    assert all(
        hold(customer, salon, service, at(day, "10:00") + timedelta(minutes=30 * n), staff).status_code == 201
        for n, staff in enumerate(team)
    )


def test_the_manager_sets_the_limit(salon, service, team, customer, manager, day):
    boss = client_for(manager)
    url = f"/api/v1/manage/salons/{salon.id}/settings/"
    assert boss.get(url).json()["max_unpaid_holds"] == 2
    for bad in (0, 51, None):
        response = boss.patch(url, {"max_unpaid_holds": bad}, format="json")
        assert response.status_code == 400 and "max_unpaid_holds" in response.json()["error"]["fields"]
    assert boss.patch(url, {"max_unpaid_holds": 3}, format="json").json()["max_unpaid_holds"] == 3
    statuses = [
        hold(customer, salon, service, at(day, "10:00") + timedelta(minutes=30 * n), staff).status_code
        for n, staff in enumerate(team)
    ]
    assert statuses == [201, 201, 201, 409]


def test_a_held_create_costs_two_statements_more_than_before(salon, service, team, customer, day):
    """The customer's lock and the count of their holds; a salon without prepayment pays neither (its
    budget: test_booking_api's query budget test)."""
    make_booking(service=service, staff=team[1], start=at(day, "15:00"))  # the audit log's content type
    with CaptureQueriesContext(connection) as queries:
        assert hold(customer, salon, service, at(day, "10:00"), team[0]).status_code == 201
    statements = [query["sql"] for query in queries.captured_queries]
    # The user, the service with its salon, the customer's lock, the count of their holds, the staff
    # lock, the schedules, the booking, its audit entry, its items, and the savepoint and its release (a
    # hold has no message until it is paid).
    assert len(statements) <= 11, "\n".join(statements)
    assert any("FOR NO KEY UPDATE" in sql for sql in statements)
