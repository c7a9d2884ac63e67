"""Visits under real concurrency on PostgreSQL: threads, each with its own connection, racing through the
API. Every loser gets a clean 409: never a 500, never a deadlock surfacing, whatever order the visits
name their staff members in (the locks are taken in one global order)."""

import pytest

from backend.bookings.models import Booking, BookingItem, BookingStatus
from tests.bookings.test_booking_concurrency import race
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

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def day():
    return next_weekday(0)


@pytest.fixture
def salon():
    return make_salon()


@pytest.fixture
def colour(salon):
    return make_service(salon, name="Colour", duration_minutes=30, processing_minutes=40)


@pytest.fixture
def blow_dry(salon):
    return make_service(salon, name="Blow-dry", duration_minutes=30, buffer_minutes=10)


def visit_request(salon, start, *items):
    client = client_for(make_user())
    body = {
        "salon": salon.id,
        "start": start.isoformat(),
        "items": [
            {"service": service.id, "staff": None if staff is None else staff.id} for service, staff in items
        ],
    }
    return lambda: client.post("/api/v1/bookings/", body, format="json")


def codes(responses) -> dict:
    """Status counts, after checking the invariant in SQL: no two active occupations of one staff member
    overlap, and every booking has all its items or none exist."""
    active = BookingItem.objects.filter(active=True)
    for item in active:
        clash = active.filter(
            staff_id=item.staff_id, start__lt=item.occupied_until, occupied_until__gt=item.start
        )
        assert not clash.exclude(pk=item.pk).exists(), item
    assert not Booking.objects.filter(items__isnull=True).exists()
    counts: dict = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return counts


def test_fifty_visits_sharing_one_staff_slot_make_exactly_one(salon, colour, blow_dry, day):
    sara = make_staff(salon, name="Sara", services=[colour, blow_dry])
    omar = make_staff(salon, name="Omar", services=[blow_dry])
    # Half name Sara then Omar, half Sara then anyone: all need Sara's 09:00.
    requests = [
        visit_request(salon, at(day, "09:00"), (colour, sara), (blow_dry, omar if n % 2 else None))
        for n in range(50)
    ]
    responses = race(requests)
    assert codes(responses) == {201: 1, 409: 49}
    assert {response.json()["error"]["code"] for response in responses if response.status_code == 409} == {
        "slot_unavailable"
    }
    assert Booking.objects.count() == 1 and BookingItem.objects.count() == 2


def test_visits_crossing_two_staff_in_opposite_orders_never_deadlock(salon, day):
    cut = make_service(salon, name="Cut", duration_minutes=30)
    beard = make_service(salon, name="Beard", duration_minutes=30)
    ali, badr = (make_staff(salon, name=name, services=[cut, beard]) for name in ("Ali", "Badr"))
    # A: Ali then Badr; B: Badr then Ali, at the same start: each needs both staff members' locks. Visits
    # of one pattern clash with each other, not with the other pattern's.
    requests = []
    for n in range(30):
        first, second = (ali, badr) if n % 2 else (badr, ali)
        requests.append(visit_request(salon, at(day, "09:00"), (cut, first), (beard, second)))
    responses = race(requests)
    assert codes(responses) == {201: 2, 409: 28}
    patterns = {tuple(item["staff"] for item in r.json()["items"]) for r in responses if r.status_code == 201}
    assert patterns == {(ali.id, badr.id), (badr.id, ali.id)}


def test_the_processing_gap_goes_to_another_customer_while_the_visit_is_booked(salon, colour, blow_dry, day):
    sara = make_staff(salon, name="Sara", services=[colour, blow_dry])
    # The visit: colour 09:00-09:30, processing to 10:10, blow-dry 10:10-10:40. In the gap: 09:30-10:00
    # (+10 buffer), racing the visit and each other.
    requests = [visit_request(salon, at(day, "09:00"), (colour, sara), (blow_dry, sara)) for _ in range(10)]
    requests += [visit_request(salon, at(day, "09:30"), (blow_dry, sara)) for _ in range(10)]
    responses = race(requests)
    assert codes(responses) == {201: 2, 409: 18}
    assert sorted(BookingItem.objects.values_list("start", flat=True)) == [
        at(day, "09:00"),
        at(day, "09:30"),
        at(day, "10:10"),
    ]


def _moves_and_books(salon, cut, day, n: int):
    """A customer with Ali's 09:00 visit, and their two requests: book 12:00 with Badr, move the visit to
    12:00 (with Ali). Half the pairs list the move first: the threads start together either way."""
    ali = make_staff(salon, name=f"Ali {n}", services=[cut])
    badr = make_staff(salon, name=f"Badr {n}", services=[cut])
    customer = make_user()
    moving = make_booking(service=cut, staff=ali, start=at(day, "09:00"), customer=customer)
    client = client_for(customer)
    noon = at(day, "12:00").isoformat()
    create = {"salon": salon.id, "start": noon, "service": cut.id, "staff": badr.id}
    pair = [
        lambda: client.post("/api/v1/bookings/", create, format="json"),
        lambda: client.post(f"/api/v1/bookings/{moving.pk}/reschedule/", {"start": noon}, format="json"),
    ]
    return customer, pair if n % 2 else pair[::-1]


def test_a_create_and_a_reschedule_of_one_customer_never_overlap_their_visits(salon, day):
    """No staff member is shared between a customer's create and move, so no staff lock orders them: only
    the customer's lock, which both take first, keeps `customer_busy` true. One of each pair wins, the
    other is a 409 `customer_busy`; no deadlock, no 500."""
    cut = make_service(salon, name="Cut", duration_minutes=30)
    pairs = [_moves_and_books(salon, cut, day, n) for n in range(10)]
    responses = race([request for _, pair in pairs for request in pair])
    codes(responses)  # the staff invariant, checked in SQL
    for index, (customer, _) in enumerate(pairs):
        first, second = responses[2 * index], responses[2 * index + 1]
        outcomes = sorted([first.status_code, second.status_code])
        assert outcomes in ([200, 409], [201, 409]), (first.content, second.content)
        refused = first if first.status_code == 409 else second
        assert refused.json()["error"]["code"] == "customer_busy"
        visits = Booking.objects.filter(customer=customer, status=BookingStatus.CONFIRMED)
        times = list(visits.values_list("start", "end"))
        assert not any(
            start < other_end and other_start < end
            for position, (start, end) in enumerate(times)
            for other_start, other_end in times[position + 1 :]
        ), times
