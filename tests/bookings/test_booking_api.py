"""The booking lifecycle through the API, as the mobile apps use it, on real PostgreSQL."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.bookings.models import Booking, BookingStatus
from backend.bookings.policy import refund_for_cancellation
from backend.bookings.services import booking_expire_holds, booking_reminders_write
from backend.notifications.models import Kind, Notification
from backend.salons.models import Closure, TimeOff, WorkingHours
from tests.support.api import error_code
from tests.support.factories import (
    at,
    client_for,
    make_booking,
    make_paid_payment,
    make_salon,
    make_service,
    make_staff,
    make_user,
    next_weekday,
)

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
POLICY = [{"hours_before": 24, "refund_percent": 100}, {"hours_before": 2, "refund_percent": 50}]


@pytest.fixture
def day() -> date:
    return next_weekday(0)  # a Monday at least a week ahead


@pytest.fixture
def manager():
    return make_user(name="Manager")


@pytest.fixture
def salon(manager):
    return make_salon(managers=[manager], cancellation_policy=POLICY)


@pytest.fixture
def service(salon):
    return make_service(salon, duration_minutes=60, price_halalas=10000)


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service], name="Sara", user=make_user(name="Sara"))


@pytest.fixture
def customer():
    return make_user(name="Noura", language="en")


@pytest.fixture
def client(customer):
    return client_for(customer)


def book(client, salon, service, start: str, staff=None, **headers):
    body = {"salon": salon.id, "service": service.id, "start": start}
    if staff is not None:
        body["staff"] = staff.id
    return client.post("/api/v1/bookings/", body, format="json", **headers)


# --- create -----------------------------------------------------------------------------------------


def test_a_booking_is_confirmed_with_its_message_and_shown_in_the_salons_time(
    client, salon, service, staff, day
):
    response = book(client, salon, service, f"{day}T10:00:00+03:00", staff)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "confirmed" and body["payment_status"] == "unpaid"
    assert body["start"] == f"{day}T10:00:00+03:00" and body["end"] == f"{day}T11:00:00+03:00"
    assert (body["staff"], body["price_halalas"], body["currency"]) == (staff.id, 10000, "SAR")
    assert body["hold_expires_at"] is None
    [message] = Notification.objects.all()
    assert (
        message.kind == Kind.BOOKING_CONFIRMED
        and message.dedupe_key == f"booking:{body['id']}:booking_confirmed"
    )
    assert "Sara" in message.body and "11:00" not in message.body


def test_times_given_in_another_offset_mean_the_same_instant(client, salon, service, staff, day):
    response = book(client, salon, service, f"{day}T07:00:00Z", staff)
    assert response.status_code == 201
    assert response.json()["start"] == f"{day}T10:00:00+03:00"


def test_a_prepayment_salon_holds_the_slot_unconfirmed(client, salon, service, staff, day):
    salon.prepayment_required = True
    salon.hold_minutes = 15
    salon.save()
    before = timezone.now()
    body = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()
    assert body["status"] == "pending_payment"
    hold = datetime.fromisoformat(body["hold_expires_at"])
    assert before + timedelta(minutes=15) <= hold <= timezone.now() + timedelta(minutes=15)
    assert not Notification.objects.exists()  # confirmed only once paid


@pytest.mark.parametrize(
    ("start", "status", "code"),
    [
        ("{day}T10:00:00", 400, "validation_error"),  # no offset
        ("{day}T21:30:00+03:00", 400, "outside_working_hours"),
        ("{day}T10:15:00+03:00", 400, "not_on_slot_grid"),
        ("2020-01-06T10:00:00+03:00", 400, "too_soon"),
        ("0001-01-01T00:00:06Z", 400, "too_soon"),  # its local day starts before datetime.min: was a 500
        ("2099-01-05T10:00:00+03:00", 400, "too_far_ahead"),
        ("9999-12-31T10:00:00+03:00", 400, "too_far_ahead"),
        ("tomorrow", 400, "validation_error"),
    ],
)
def test_bad_starts_are_refused_with_their_reason(client, salon, service, staff, day, start, status, code):
    response = book(client, salon, service, start.format(day=day), staff)
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert not Booking.objects.exists()


def test_unknown_ids_and_wrong_types_are_validation_errors(client, salon, service, staff, day):
    start = f"{day}T10:00:00+03:00"
    for body, field in [
        ({"salon": 10**9, "service": service.id, "start": start}, "salon"),
        ({"salon": salon.id, "service": 10**9, "start": start}, "service"),
        ({"salon": salon.id, "service": service.id, "start": start, "staff": 10**9}, "staff"),
        ({"salon": "x", "service": [1], "start": 5}, "salon"),
        ({"salon": 10**30, "service": service.id, "start": start}, "salon"),
        ({}, "start"),
    ]:
        response = client.post("/api/v1/bookings/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["error"]["fields"], body


def test_a_staff_member_without_the_service_is_refused(client, salon, service, day):
    other = make_staff(salon)
    response = book(client, salon, service, f"{day}T10:00:00+03:00", other)
    assert response.status_code == 400 and error_code(response) == "staff_not_qualified"


def test_a_taken_slot_and_an_overlapping_start_are_409(client, salon, service, staff, day):
    assert book(client, salon, service, f"{day}T10:00:00+03:00", staff).status_code == 201
    taken = book(client_for(make_user()), salon, service, f"{day}T10:00:00+03:00", staff)
    assert taken.status_code == 409 and error_code(taken) == "slot_unavailable"
    # 10:30 is on the grid of a 30-minute step but overlaps 10:00-11:00.
    overlapping = book(client_for(make_user()), salon, service, f"{day}T10:30:00+03:00", staff)
    assert overlapping.status_code == 409
    assert book(client_for(make_user()), salon, service, f"{day}T11:00:00+03:00", staff).status_code == 201


def test_a_create_reads_the_schedules_in_one_statement_and_stays_within_its_budget(
    client, salon, service, staff, day
):
    # Busy neighbours, time off and a closure elsewhere: more rows, not more statements.
    make_booking(service=service, staff=staff, start=at(day, "12:00"))
    make_booking(service=service, staff=staff, start=at(day, "15:00"))
    TimeOff.objects.create(staff=staff, start=at(day, "13:00"), end=at(day, "14:00"))
    Closure.objects.create(salon=salon, date=day + timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        assert book(client, salon, service, f"{day}T10:00:00+03:00", staff).status_code == 201
    statements = [query["sql"] for query in queries.captured_queries]
    schedule_reads = [sql for sql in statements if WorkingHours._meta.db_table in sql]
    assert len(schedule_reads) == 1
    # The user, the service with its salon, the customer's lock (their creates take turns: customer_busy),
    # the staff lock, the schedules (the customer's visits there too), the booking, its audit entry, its
    # items (one INSERT whatever their number), its message (one INSERT, no savepoint of its own), and
    # the transaction's savepoint and release (the test's own transaction turns BEGIN/COMMIT into them):
    # a statement more here is a regression.
    assert len(statements) <= 11, "\n".join(statements)


def test_the_buffer_keeps_the_next_start_free(client, salon, staff, day):
    buffered = make_service(salon, duration_minutes=60, buffer_minutes=30)
    staff.services.add(buffered)
    assert book(client, salon, buffered, f"{day}T10:00:00+03:00", staff).status_code == 201
    response = book(client_for(make_user()), salon, buffered, f"{day}T11:00:00+03:00", staff)
    assert response.status_code == 409
    assert book(client_for(make_user()), salon, buffered, f"{day}T11:30:00+03:00", staff).status_code == 201


def test_anyone_picks_the_least_busy_then_the_lowest_id(client, salon, service, staff, day):
    second = make_staff(salon, services=[service], name="Huda")
    third = make_staff(salon, services=[service], name="Reem")
    make_booking(service=service, staff=staff, start=at(day, "15:00"))
    make_booking(service=service, staff=second, start=at(day, "16:00"))
    chosen = [
        book(client_for(make_user()), salon, service, f"{day}T10:00:00+03:00").json()["staff"]
        for _ in range(3)
    ]
    assert chosen == [third.id, staff.id, second.id]
    full = book(client_for(make_user()), salon, service, f"{day}T10:00:00+03:00")
    assert full.status_code == 409 and error_code(full) == "slot_unavailable"


def test_anyone_outside_every_staff_members_hours_says_so(client, salon, service, staff, day):
    response = book(client, salon, service, f"{day}T22:00:00+03:00")
    assert response.status_code == 400 and error_code(response) == "outside_working_hours"


# --- idempotency -------------------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_answer_and_creates_nothing(
    client, salon, service, staff, day
):
    first = book(client, salon, service, f"{day}T10:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="k-1")
    again = book(client, salon, service, f"{day}T10:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1 and Notification.objects.count() == 1
    changed = book(client, salon, service, f"{day}T12:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="k-1")
    assert changed.status_code == 409 and error_code(changed) == "idempotency_key_reused"


def test_a_refusal_is_replayed_too_and_keys_are_per_user(client, salon, service, staff, day):
    make_booking(service=service, staff=staff, start=at(day, "10:00"))
    refused = book(client, salon, service, f"{day}T10:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 409
    Booking.objects.all().delete()  # the slot frees up, but the key remembers its answer
    assert (
        book(client, salon, service, f"{day}T10:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="k").status_code
        == 409
    )
    other = book(
        client_for(make_user()), salon, service, f"{day}T10:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 201


def test_an_invalid_idempotency_key_is_400(client, salon, service, staff, day):
    response = book(client, salon, service, f"{day}T10:00:00+03:00", staff, HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400 and error_code(response) == "invalid_idempotency_key"


# --- who sees what -----------------------------------------------------------------------------------


def test_bookings_are_visible_to_their_customer_and_their_salon_only(
    client, customer, salon, service, staff, manager, day
):
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    stranger = client_for(make_user())
    for path in ("", "cancel/", "reschedule/", "complete/", "no-show/"):
        method = stranger.get if not path else stranger.post
        response = method(
            f"/api/v1/bookings/{booking_id}/{path}", {"start": f"{day}T12:00:00+03:00"}, format="json"
        )
        assert response.status_code == 404, path
    other_manager = make_user()
    make_salon(managers=[other_manager])
    assert client_for(other_manager).get(f"/api/v1/bookings/{booking_id}/").status_code == 404
    for viewer in (client, client_for(manager), client_for(staff.user)):
        assert viewer.get(f"/api/v1/bookings/{booking_id}/").status_code == 200
        listed = viewer.get("/api/v1/bookings/").json()
        assert [row["id"] for row in listed["results"]] == [booking_id]
    assert stranger.get("/api/v1/bookings/").json()["count"] == 0
    assert client_for(None).get("/api/v1/bookings/").status_code == 401


def test_the_list_filters_by_status_and_upcoming(client, customer, salon, service, staff, day):
    past = make_booking(
        service=service, staff=staff, customer=customer, start=timezone.now() - timedelta(days=2)
    )
    upcoming = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    assert [row["id"] for row in client.get("/api/v1/bookings/?upcoming=true").json()["results"]] == [
        upcoming
    ]
    assert [row["id"] for row in client.get("/api/v1/bookings/").json()["results"]] == [past.id, upcoming]
    assert client.get("/api/v1/bookings/?status=cancelled").json()["count"] == 0
    assert client.get("/api/v1/bookings/?status=bogus").status_code == 400


# --- cancel and refunds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_left", "by_salon", "expected"),
    [
        (48, False, 10000),
        (24, False, 10000),  # exactly 24 h before: the 24 h tier applies
        (23.99, False, 5000),
        (2, False, 5000),
        (1.99, False, 0),  # later than the smallest tier
        (0.5, True, 10000),  # the salon cancels: everything paid comes back
    ],
)
def test_refund_tiers_at_their_boundaries(hours_left, by_salon, expected):
    refund = refund_for_cancellation(
        paid_halalas=10000, policy=POLICY, time_left=timedelta(hours=hours_left), by_salon=by_salon
    )
    assert refund == expected


def test_an_unpaid_booking_refunds_nothing_and_rounding_never_exceeds_the_policy():
    assert (
        refund_for_cancellation(paid_halalas=0, policy=POLICY, time_left=timedelta(days=3), by_salon=True)
        == 0
    )
    odd = [{"hours_before": 0, "refund_percent": 33}]
    assert (
        refund_for_cancellation(paid_halalas=101, policy=odd, time_left=timedelta(hours=1), by_salon=False)
        == 33
    )


def test_a_customer_cancels_a_paid_booking_and_gets_the_tiers_refund(client, customer, salon, service, staff):
    start = timezone.now() + timedelta(hours=10)
    booking = make_booking(service=service, staff=staff, customer=customer, start=start)
    make_paid_payment(booking)
    response = client.post(f"/api/v1/bookings/{booking.id}/cancel/", {"reason": "sick"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["refund_halalas"], body["cancelled_by"]) == ("cancelled", 5000, "customer")
    message = Notification.objects.get(kind=Kind.BOOKING_CANCELLED)
    assert "SAR 50.00" in message.body
    again = client.post(f"/api/v1/bookings/{booking.id}/cancel/", {}, format="json")
    assert again.status_code == 409 and error_code(again) == "not_cancellable"


def test_the_salon_cancels_with_a_full_refund(staff, customer, salon, service, manager):
    start = timezone.now() + timedelta(hours=1)
    booking = make_booking(service=service, staff=staff, customer=customer, start=start)
    make_paid_payment(booking)
    body = client_for(manager).post(f"/api/v1/bookings/{booking.id}/cancel/", {}, format="json").json()
    assert (body["refund_halalas"], body["cancelled_by"]) == (10000, "salon")


def test_a_manager_cancels_a_removed_staff_members_upcoming_bookings_in_full(
    staff, customer, salon, service, manager
):
    from backend.payments.models import Refund

    soon = make_booking(
        service=service, staff=staff, customer=customer, start=timezone.now() + timedelta(hours=1)
    )
    make_paid_payment(soon)
    later = make_booking(service=service, staff=staff, start=timezone.now() + timedelta(days=3))
    held = make_booking(
        service=service,
        staff=staff,
        start=timezone.now() + timedelta(days=4),
        status=BookingStatus.PENDING_PAYMENT,
        hold_expires_at=timezone.now() + timedelta(minutes=10),
    )
    started = make_booking(service=service, staff=staff, start=timezone.now() - timedelta(minutes=10))
    done = make_booking(
        service=service, staff=staff, start=timezone.now() + timedelta(days=5), status=BookingStatus.CANCELLED
    )
    colleague = make_staff(salon, services=[service], name="Huda")
    theirs = make_booking(service=service, staff=colleague, start=timezone.now() + timedelta(days=3))
    manage = client_for(manager)
    url = f"/api/v1/manage/salons/{salon.id}/staff/{staff.id}/"
    assert manage.delete(url).status_code == 204  # removed first: what was booked with them outlives them
    response = manage.post(url + "cancel-upcoming/", {"reason": "Sara left"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"cancelled": 3, "refund_halalas": 10000, "remaining": 0}
    for booking in (soon, later, held):
        booking.refresh_from_db()
        assert (booking.status, booking.cancelled_by, booking.cancellation_reason) == (
            BookingStatus.CANCELLED,
            "salon",
            "Sara left",
        )
    assert Refund.objects.get().amount_halalas == 10000  # requested with the cancellation
    told = Notification.objects.filter(kind=Kind.BOOKING_CANCELLED).values_list("recipient_id", flat=True)
    assert sorted(told) == sorted([soon.customer_id, later.customer_id, held.customer_id])
    for untouched, status in ((started, BookingStatus.CONFIRMED), (done, BookingStatus.CANCELLED)):
        untouched.refresh_from_db()
        assert untouched.status == status
    theirs.refresh_from_db()
    assert theirs.status == BookingStatus.CONFIRMED
    again = manage.post(url + "cancel-upcoming/", {}, format="json")
    assert again.json() == {"cancelled": 0, "refund_halalas": 0, "remaining": 0}


def test_a_manager_cancels_only_the_bookings_a_time_off_overlaps(staff, salon, service, manager, day):
    before = make_booking(service=service, staff=staff, start=at(day, "10:00"))
    during = make_booking(service=service, staff=staff, start=at(day + timedelta(days=1), "10:00"))
    after = make_booking(service=service, staff=staff, start=at(day + timedelta(days=2), "10:00"))
    manage = client_for(manager)
    staff_url = f"/api/v1/manage/salons/{salon.id}/staff/{staff.id}/"
    sick = {"start": f"{day}T12:00:00+03:00", "end": f"{day + timedelta(days=2)}T09:00:00+03:00"}
    time_off = manage.post(staff_url + "time-off/", sick, format="json").json()
    assert time_off["bookings_in_the_way"] == 1
    response = manage.post(staff_url + "cancel-upcoming/", {**sick, "reason": "sick"}, format="json")
    assert response.json() == {"cancelled": 1, "refund_halalas": 0, "remaining": 0}
    statuses = {booking.pk: booking.status for booking in Booking.objects.all()}
    assert statuses == {
        before.pk: BookingStatus.CONFIRMED,
        during.pk: BookingStatus.CANCELLED,
        after.pk: BookingStatus.CONFIRMED,
    }
    assert manage.get(staff_url + "time-off/").json()["results"][0]["bookings_in_the_way"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2027-01-10T12:00:00+03:00"}, "end"),
        ({"end": "2027-01-10T12:00:00+03:00"}, "start"),
        ({"start": "2027-01-10T12:00:00+03:00", "end": "2027-01-10T12:00:00+03:00"}, "end"),
        ({"start": "2027-01-10T12:00:00", "end": "2027-01-10T14:00:00+03:00"}, "start"),
    ],
)
def test_a_bulk_cancel_window_needs_both_ends_in_order(staff, salon, manager, body, field):
    url = f"/api/v1/manage/salons/{salon.id}/staff/{staff.id}/cancel-upcoming/"
    response = client_for(manager).post(url, body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_only_the_salons_managers_cancel_a_staff_members_bookings(staff, customer, salon, service):
    booking = make_booking(
        service=service, staff=staff, customer=customer, start=timezone.now() + timedelta(days=1)
    )
    elsewhere = make_salon(managers=[make_user()])
    stranger = make_staff(elsewhere, services=[make_service(elsewhere)])
    url = f"/api/v1/manage/salons/{salon.id}/staff/{{}}/cancel-upcoming/"
    for user, staff_id in (
        (staff.user, staff.id),  # staff of the salon, not a manager
        (customer, staff.id),
        (elsewhere.managers.get(), staff.id),
        (salon.managers.get(), stranger.id),  # someone else's staff member
        (salon.managers.get(), 10**9),
    ):
        response = client_for(user).post(url.format(staff_id), {}, format="json")
        assert response.status_code == 404, (user, staff_id)
    bad = client_for(salon.managers.get()).post(url.format(staff.id), {"reason": 7}, format="json")
    assert bad.status_code == 400 and error_code(bad) == "validation_error"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_customer_cannot_cancel_after_the_start(client, customer, service, staff):
    booking = make_booking(
        service=service, staff=staff, customer=customer, start=timezone.now() - timedelta(minutes=5)
    )
    response = client.post(f"/api/v1/bookings/{booking.id}/cancel/", {}, format="json")
    assert response.status_code == 409 and error_code(response) == "not_cancellable"


def test_a_cancelled_slot_is_free_again(client, salon, service, staff, day):
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    client.post(f"/api/v1/bookings/{booking_id}/cancel/", {}, format="json")
    assert book(client_for(make_user()), salon, service, f"{day}T10:00:00+03:00", staff).status_code == 201


# --- reschedule --------------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_and_frees_the_old_time(client, salon, service, staff, day):
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    # 10:30 overlaps the booking's own old time: only other bookings count against the move.
    moved = client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/", {"start": f"{day}T10:30:00+03:00"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["start"] == f"{day}T10:30:00+03:00"
    assert Notification.objects.filter(kind=Kind.BOOKING_RESCHEDULED).count() == 1
    assert book(client_for(make_user()), salon, service, f"{day}T09:00:00+03:00", staff).status_code == 201


def test_a_refused_reschedule_leaves_the_booking_untouched(client, salon, service, staff, day):
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    make_booking(service=service, staff=staff, start=at(day, "14:00"))
    for start, code in [
        (f"{day}T14:00:00+03:00", "slot_unavailable"),
        (f"{day}T22:00:00+03:00", "outside_working_hours"),
    ]:
        response = client.post(f"/api/v1/bookings/{booking_id}/reschedule/", {"start": start}, format="json")
        assert error_code(response) == code
    booking = Booking.objects.get(pk=booking_id)
    assert booking.start == at(day, "10:00") and booking.status == BookingStatus.CONFIRMED
    assert not Notification.objects.filter(kind=Kind.BOOKING_RESCHEDULED).exists()


def test_reschedule_to_another_staff_member(client, salon, service, staff, day):
    other = make_staff(salon, services=[service], name="Huda")
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    body = client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/",
        {"start": f"{day}T10:00:00+03:00", "staff": other.id},
        format="json",
    ).json()
    assert body["staff"] == other.id


# --- complete and no-show ----------------------------------------------------------------------------


def test_complete_and_no_show_are_for_the_salon_once_started(client, customer, service, staff, manager, day):
    future = make_booking(service=service, staff=staff, customer=customer, start=at(day, "10:00"))
    started = make_booking(
        service=service, staff=staff, customer=customer, start=timezone.now() - timedelta(minutes=10)
    )
    response = client_for(manager).post(f"/api/v1/bookings/{future.id}/complete/")
    assert response.status_code == 409 and error_code(response) == "not_started"
    assert client.post(f"/api/v1/bookings/{started.id}/complete/").status_code == 403
    response = client_for(staff.user).post(f"/api/v1/bookings/{started.id}/no-show/")
    assert response.status_code == 200 and response.json()["status"] == "no_show"
    again = client_for(manager).post(f"/api/v1/bookings/{started.id}/complete/")
    assert again.status_code == 409


# --- holds ------------------------------------------------------------------------------------------


def test_unpaid_holds_expire_and_free_their_slot(client, salon, service, staff, day):
    salon.prepayment_required = True
    salon.save()
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    assert booking_expire_holds() == 0  # not yet due
    assert booking_expire_holds(now=timezone.now() + timedelta(minutes=salon.hold_minutes, seconds=1)) == 1
    assert Booking.objects.get(pk=booking_id).status == BookingStatus.EXPIRED
    assert Notification.objects.filter(kind=Kind.BOOKING_EXPIRED).count() == 1
    slots = client.get(
        f"/api/v1/salons/{salon.id}/availability/?service={service.id}&date={day}&staff={staff.id}"
    ).json()
    assert f"{day}T10:00:00+03:00" in [slot["start"] for slot in slots["slots"]]


# --- reminders ---------------------------------------------------------------------------------------


def test_reminders_fall_due_once_each_and_a_reschedule_rearms_them(service, staff, customer):
    now = timezone.now()
    booked_long_ago = now - timedelta(days=5)
    tomorrow = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=now + timedelta(hours=23),
        scheduled_at=booked_long_ago,
    )
    soon = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=now + timedelta(hours=1, minutes=59),
        scheduled_at=booked_long_ago,
    )
    later = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=now + timedelta(hours=24, minutes=1),
        scheduled_at=booked_long_ago,
    )
    booked_today = make_booking(
        service=service, staff=staff, customer=customer, start=now + timedelta(hours=5), scheduled_at=now
    )
    cancelled = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=now + timedelta(hours=3),
        scheduled_at=booked_long_ago,
        status=BookingStatus.CANCELLED,
    )
    assert booking_reminders_write(now=now) == 2
    kinds = dict(Notification.objects.values_list("dedupe_key", "kind"))
    assert kinds == {
        f"booking:{tomorrow.id}:reminder_24h:{tomorrow.start.isoformat()}": Kind.REMINDER_24H,
        f"booking:{soon.id}:reminder_2h:{soon.start.isoformat()}": Kind.REMINDER_2H,
    }
    assert booking_reminders_write(now=now) == 0  # written once
    # A missed run catches up: an hour later the next booking is due its 24 h reminder.
    assert booking_reminders_write(now=now + timedelta(hours=1)) == 1
    assert Notification.objects.filter(dedupe_key__startswith=f"booking:{later.id}:").count() == 1
    assert not Notification.objects.filter(dedupe_key__startswith=f"booking:{booked_today.id}:").exists()
    assert not Notification.objects.filter(dedupe_key__startswith=f"booking:{cancelled.id}:").exists()
    moved = timedelta(hours=3)  # to 26 h from now: clear of `later`, due again two hours on
    Booking.objects.filter(pk=tomorrow.pk).update(
        start=tomorrow.start + moved, end=tomorrow.end + moved, occupied_until=tomorrow.occupied_until + moved
    )
    assert booking_reminders_write(now=now + timedelta(hours=2)) == 1  # re-armed for the new time


# --- the database's own guarantee --------------------------------------------------------------------


def test_the_database_refuses_overlapping_active_bookings_whatever_the_code(service, staff, day):
    make_booking(service=service, staff=staff, start=at(day, "10:00"))
    with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
        make_booking(service=service, staff=staff, start=at(day, "10:59"))
    make_booking(service=service, staff=staff, start=at(day, "11:00"))  # touching is fine: [start, end)
    make_booking(service=service, staff=make_staff(staff.salon, services=[service]), start=at(day, "10:00"))
    make_booking(service=service, staff=staff, start=at(day, "10:30"), status=BookingStatus.CANCELLED)


# --- account deletion --------------------------------------------------------------------------------


def test_deleting_the_account_cancels_future_bookings_and_keeps_history(
    client, customer, service, staff, day
):
    future = make_booking(service=service, staff=staff, customer=customer, start=at(day, "10:00"))
    past = make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=timezone.now() - timedelta(days=3),
        status=BookingStatus.COMPLETED,
    )
    assert client.delete("/api/v1/me/").status_code == 204
    future.refresh_from_db()
    past.refresh_from_db()
    assert (future.status, future.cancelled_by, future.refund_halalas) == (
        BookingStatus.CANCELLED,
        "customer",
        0,
    )
    assert past.status == BookingStatus.COMPLETED and past.customer_id == customer.id
    assert client.get("/api/v1/bookings/").status_code == 401


def test_a_platform_admin_sees_every_booking_and_may_close_it(service, staff, customer):
    from tests.support.factories import make_admin

    started = make_booking(
        service=service, staff=staff, customer=customer, start=timezone.now() - timedelta(hours=1)
    )
    admin = client_for(make_admin())
    assert [row["id"] for row in admin.get("/api/v1/bookings/").json()["results"]] == [started.id]
    assert admin.post(f"/api/v1/bookings/{started.id}/complete/").json()["status"] == "completed"


def test_the_data_export_lists_the_customers_bookings(client, salon, service, staff, day):
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    exported = client.get("/api/v1/me/export/").json()
    assert [row["id"] for row in exported["bookings"]] == [booking_id]
    assert exported["bookings"][0]["salon"] == salon.name


def stale_hold(service, staff, start: datetime):
    """An unpaid hold whose time ran out a second ago, not yet expired by the sweep."""
    return make_booking(
        service=service,
        staff=staff,
        start=start,
        status=BookingStatus.PENDING_PAYMENT,
        hold_expires_at=timezone.now() - timedelta(seconds=1),
    )


def test_a_hold_past_its_time_frees_its_slot_before_the_sweep_runs(client, salon, service, staff, day):
    stale = stale_hold(service, staff, at(day, "10:00"))
    slots = client.get(
        f"/api/v1/salons/{salon.id}/availability/?service={service.id}&date={day}&staff={staff.id}"
    )
    assert f"{day}T10:00:00+03:00" in [slot["start"] for slot in slots.json()["slots"]]
    assert book(client, salon, service, f"{day}T10:00:00+03:00", staff).status_code == 201
    stale.refresh_from_db()
    assert stale.status == BookingStatus.EXPIRED
    assert Notification.objects.filter(kind=Kind.BOOKING_EXPIRED).count() == 1


def test_a_reschedule_accepts_the_starts_the_list_offers_next_to_the_booking_itself(
    client, salon, staff, day
):
    # 30 minutes + 10 of buffer: with the booking in place the list's grid restarts at 10:40, a start the
    # grid of the day without it (09:00, 09:30, ...) does not have.
    service = make_service(salon, duration_minutes=30, buffer_minutes=10)
    staff.services.add(service)
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    offered = client.get(
        f"/api/v1/salons/{salon.id}/availability/?service={service.id}&date={day}&staff={staff.id}"
    ).json()["slots"]
    assert f"{day}T10:40:00+03:00" in [slot["start"] for slot in offered]
    for start in (f"{day}T10:40:00+03:00", f"{day}T10:30:00+03:00"):  # the list's grid, then the other
        moved = client.post(f"/api/v1/bookings/{booking_id}/reschedule/", {"start": start}, format="json")
        assert moved.status_code == 200, moved.content
        assert moved.json()["start"] == start
    refused = client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/", {"start": f"{day}T10:50:00+03:00"}, format="json"
    )
    assert error_code(refused) == "not_on_slot_grid"


def test_a_reschedule_onto_a_hold_past_its_time_expires_the_hold(client, salon, service, staff, day):
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    stale = stale_hold(service, staff, at(day, "14:00"))
    moved = client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/", {"start": f"{day}T14:00:00+03:00"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    stale.refresh_from_db()
    assert stale.status == BookingStatus.EXPIRED


def test_an_unknown_or_foreign_staff_member_is_a_validation_error_on_create_and_reschedule(
    client, salon, service, staff, day
):
    foreign = make_staff(make_salon(), services=[make_service(make_salon())])
    for staff_id in (10**9, foreign.id):
        body = {"salon": salon.id, "service": service.id, "start": f"{day}T10:00:00+03:00", "staff": staff_id}
        response = client.post("/api/v1/bookings/", body, format="json")
        assert response.status_code == 400 and "staff" in response.json()["error"]["fields"]
    booking_id = book(client, salon, service, f"{day}T10:00:00+03:00", staff).json()["id"]
    moved = client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/",
        {"start": f"{day}T12:00:00+03:00", "staff": 10**9},
        format="json",
    )
    assert moved.status_code == 400 and "staff" in moved.json()["error"]["fields"]
