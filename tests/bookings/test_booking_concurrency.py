"""No double booking under real concurrency: threads, each with its own PostgreSQL connection, racing
through the API for the same staff member's time. Every loser gets a clean 409, never a 500."""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection, connections, transaction

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.services import booking_create, bookings_cancel_upcoming_of_staff
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
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def race(requests: list[Callable[[], object]]) -> list:
    """Runs every request at the same moment, one thread each; returns their responses in order."""
    start_together = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def run(index: int) -> None:
        try:
            start_together.wait()
            responses[index] = requests[index]()
        finally:
            connections.close_all()  # each thread opened its own connection

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


@pytest.fixture
def day() -> date:
    return next_weekday(0)


@pytest.fixture
def salon():
    return make_salon()


@pytest.fixture
def service(salon):
    return make_service(salon, duration_minutes=60, buffer_minutes=15)


def booking_request(salon, service, start: str, staff=None):
    client = client_for(make_user())
    body = {"salon": salon.id, "service": service.id, "start": start}
    if staff is not None:
        body["staff"] = staff.id
    return lambda: client.post("/api/v1/bookings/", body, format="json")


def statuses(responses) -> Counter:
    assert_no_overlap()
    return Counter(response.status_code for response in responses)


def assert_no_overlap() -> None:
    """The invariant itself, checked in SQL: no two active bookings of one staff member overlap."""
    active = Booking.objects.filter(status__in=[BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED])
    for booking in active:
        clash = active.filter(
            staff_id=booking.staff_id, start__lt=booking.occupied_until, occupied_until__gt=booking.start
        ).exclude(pk=booking.pk)
        assert not clash.exists(), (booking, list(clash))


def test_fifty_requests_for_one_slot_make_exactly_one_booking(salon, service, day):
    staff = make_staff(salon, services=[service])
    responses = race([booking_request(salon, service, f"{day}T10:00:00+03:00", staff) for _ in range(50)])
    assert statuses(responses) == {201: 1, 409: 49}
    assert {response.json()["error"]["code"] for response in responses if response.status_code == 409} == {
        "slot_unavailable"
    }
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1


def test_overlapping_but_different_starts_make_one_booking(salon, service, day):
    staff = make_staff(salon, services=[service])
    # 60 minutes + 15 of buffer: 09:30 occupies until 10:45, so each of these overlaps every other one.
    starts = ["09:30", "10:00", "10:30"] * 13
    responses = race([booking_request(salon, service, f"{day}T{wall}:00+03:00", staff) for wall in starts])
    assert statuses(responses) == {201: 1, 409: 38}
    [booking] = Booking.objects.all()
    assert booking.start.astimezone(salon.tz).strftime("%H:%M") in starts


def test_anyone_under_contention_books_each_staff_member_once(salon, service, day):
    team = [make_staff(salon, services=[service], name=f"Staff {n}") for n in range(3)]
    responses = race([booking_request(salon, service, f"{day}T10:00:00+03:00") for _ in range(30)])
    assert statuses(responses) == {201: 3, 409: 27}
    assert sorted(Booking.objects.values_list("staff_id", flat=True)) == sorted(member.id for member in team)


def test_distinct_slots_in_parallel_all_succeed(salon, service, day):
    staff = make_staff(salon, services=[service])
    # 75 minutes per booking (with buffer), on a 15-minute grid: one every 75 minutes never clashes.
    salon.slot_step_minutes = 15
    salon.save()
    starts = [f"{9 + (minutes // 60):02d}:{minutes % 60:02d}" for minutes in range(0, 600, 75)]
    responses = race([booking_request(salon, service, f"{day}T{wall}:00+03:00", staff) for wall in starts])
    assert statuses(responses) == {201: len(starts)}


def test_the_same_idempotency_key_racing_makes_one_booking(salon, service, day):
    staff = make_staff(salon, services=[service])
    client = client_for(make_user())
    body = {"salon": salon.id, "service": service.id, "start": f"{day}T10:00:00+03:00", "staff": staff.id}

    def send():
        return client.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="same")

    responses = race([send for _ in range(10)])
    assert Booking.objects.count() == 1
    codes = statuses(responses)
    assert codes[201] >= 1 and set(codes) <= {201, 409}
    assert all(
        response.json()["error"]["code"] == "request_in_progress"
        for response in responses
        if response.status_code == 409
    )


def wait_for_a_lock_wait() -> None:
    """Until some backend of this database waits on a lock (the step a test interleaves with)."""

    def backends_waiting_on_a_lock() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0]

    wait_until(backends_waiting_on_a_lock, interval=0.01)


def test_a_booking_moved_away_while_its_staff_members_are_cancelled_is_left_alone(salon, service, day):
    leaving = make_staff(salon, services=[service], name="Leaving")
    colleague = make_staff(salon, services=[service], name="Colleague")
    first = make_booking(service=service, staff=leaving, start=at(day, "10:00"))
    moving = make_booking(service=service, staff=leaving, start=at(day, "12:00"))
    moved, release, outcome = threading.Event(), threading.Event(), {}

    def move_to_colleague() -> None:
        try:
            with transaction.atomic():
                booking = Booking.objects.select_for_update().get(pk=moving.pk)
                booking.staff = colleague
                booking.save(update_fields=["staff"])
                moved.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def cancel_all() -> None:
        try:
            outcome["result"] = bookings_cancel_upcoming_of_staff(staff=leaving, reason="left")
        finally:
            connections.close_all()

    mover = threading.Thread(target=move_to_colleague)
    mover.start()
    assert moved.wait(timeout=30)
    canceller = threading.Thread(target=cancel_all)
    canceller.start()  # lists both bookings (the move is not committed), then waits on the moving one
    wait_for_a_lock_wait()
    release.set()
    mover.join(timeout=30)
    canceller.join(timeout=30)
    assert outcome["result"].cancelled == 1 and outcome["result"].remaining == 0
    first.refresh_from_db()
    moving.refresh_from_db()
    assert first.status == BookingStatus.CANCELLED
    assert (moving.status, moving.staff_id) == (BookingStatus.CONFIRMED, colleague.id)


# --- the hold limit ------------------------------------------------------------------------------------


def hold_request(client, salon, service, start: str, staff):
    body = {"salon": salon.id, "service": service.id, "start": start, "staff": staff.id}
    return lambda: client.post("/api/v1/bookings/", body, format="json")


def test_parallel_holds_by_one_customer_stop_at_the_salons_limit(salon, service, day):
    """Issue 16: one customer's eight unpaid holds took a salon's evening. Eight at once, on eight staff
    members' free time: the limit (2) holds however they interleave."""
    salon.prepayment_required = True
    salon.save()
    team = [make_staff(salon, services=[service], name=f"Staff {n}") for n in range(8)]
    client = client_for(make_user())
    # An hour apart: one customer is never in two visits at once (customer_busy, issue 22).
    responses = race(
        [
            hold_request(client, salon, service, f"{day}T{10 + n}:00:00+03:00", staff)
            for n, staff in enumerate(team)
        ]
    )
    assert statuses(responses) == {201: 2, 409: 6}
    assert {response.json()["error"]["code"] for response in responses if response.status_code == 409} == {
        "too_many_holds"
    }
    assert Booking.objects.filter(status=BookingStatus.PENDING_PAYMENT).count() == 2


def test_a_create_waits_for_the_same_customers_create_in_flight_and_counts_its_hold(salon, service, day):
    """The interleaving the lock exists for: the second create counts only after the first commits."""
    salon.prepayment_required = True
    salon.max_unpaid_holds = 1
    salon.save()
    first_staff, second_staff = (make_staff(salon, services=[service], name=name) for name in "AB")
    customer = make_user()
    inserted, release, outcome = threading.Event(), threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                booking_create(
                    customer=customer,
                    salon=salon,
                    service=service,
                    start=at(day, "10:00"),
                    staff_id=first_staff.pk,
                )
                inserted.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            outcome["response"] = hold_request(
                client_for(customer), salon, service, f"{day}T10:00:00+03:00", second_staff
            )()
        finally:
            connections.close_all()

    holder = threading.Thread(target=first)
    holder.start()
    assert inserted.wait(timeout=30)
    follower = threading.Thread(target=second)
    follower.start()
    wait_for_a_lock_wait()  # the second create waits on the customer's row
    release.set()
    holder.join(timeout=30)
    follower.join(timeout=30)
    response = outcome["response"]
    assert response.status_code == 409 and response.json()["error"]["code"] == "too_many_holds"
    assert response.json()["error"]["max_unpaid_holds"] == 1
    assert Booking.objects.count() == 1
