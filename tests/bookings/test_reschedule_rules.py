"""What a reschedule may do with money (issue 16): a paid booking moves only while cancelling it would
refund everything, and a move re-prices at the new staff member's price, never upwards for a paid one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import BookingStatus, PaymentStatus
from backend.bookings.policy import customer_may_reschedule
from backend.bookings.services import booking_cancel, booking_reschedule
from backend.core.errors import ApplicationError
from backend.payments.models import Payment, Refund, RefundStatus, Status
from backend.payments.selectors import booking_paid_halalas
from backend.salons.models import StaffService
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

# Two full-refund tiers and a partial one: the rule is "full refund", not "the first tier".
POLICY = [
    {"hours_before": 48, "refund_percent": 100},
    {"hours_before": 24, "refund_percent": 100},
    {"hours_before": 2, "refund_percent": 50},
]
EPSILON = timedelta(microseconds=1)


@pytest.fixture
def day():
    return next_weekday(0)


@pytest.fixture
def manager():
    return make_user(name="Manager")


@pytest.fixture
def salon(manager):
    return make_salon(managers=[manager], cancellation_policy=POLICY)


@pytest.fixture
def service(salon):
    return make_service(salon, price_halalas=5000)


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service], name="Sara", user=make_user(name="Sara"))


def priced_staff(salon, service, price: int, name: str):
    member = make_staff(salon, name=name)
    StaffService.objects.create(staff=member, service=service, price_halalas=price)
    return member


@pytest.fixture
def dear(salon, service):
    return priced_staff(salon, service, 20000, "Dear")


@pytest.fixture
def cheap(salon, service):
    return priced_staff(salon, service, 3000, "Cheap")


@pytest.fixture
def customer():
    return make_user(name="Noura", language="en")


@pytest.fixture
def booking(service, staff, customer, day):
    return make_booking(service=service, staff=staff, customer=customer, start=at(day, "10:00"))


@pytest.fixture
def paid(booking):
    make_paid_payment(booking)
    return booking


def move(booking, actor, *, staff=None, hours_before=None, start=None):
    now = None if hours_before is None else booking.start - hours_before
    return booking_reschedule(
        booking_id=booking.pk,
        actor=actor,
        start=start or booking.start + timedelta(hours=2),
        staff_id=None if staff is None else staff.pk,
        now=now,
    )


def refused_code(call) -> str:
    with pytest.raises(ApplicationError) as refused:
        call()
    assert refused.value.status == 409
    return refused.value.code


# --- tiers -----------------------------------------------------------------------------------------


def test_the_audit_case_moving_out_then_cancelling_no_longer_refunds_what_cancelling_would_not(
    paid, customer
):
    """90 minutes ahead a cancellation refunds 0 of 5,000; moving 3 days out first used to refund all."""
    ninety_minutes = timedelta(minutes=90)
    code = refused_code(
        lambda: move(paid, customer, hours_before=ninety_minutes, start=paid.start + timedelta(days=3))
    )
    assert code == "reschedule_too_late"
    paid.refresh_from_db()
    assert paid.start == at(paid.start.date(), "10:00") and paid.price_halalas == 5000
    cancelled = booking_cancel(booking_id=paid.pk, actor=customer, now=paid.start - ninety_minutes)
    assert cancelled.refund_halalas == 0


@pytest.mark.parametrize(
    ("time_left", "allowed"),
    [
        (timedelta(hours=48) + EPSILON, True),
        (timedelta(hours=48), True),
        (timedelta(hours=48) - EPSILON, True),  # the 24 h tier still refunds 100 %
        (timedelta(hours=24) + EPSILON, True),
        (timedelta(hours=24), True),  # exactly at the last full tier: still full
        (timedelta(hours=24) - EPSILON, False),  # 50 % now
        (timedelta(hours=2) + EPSILON, False),
        (timedelta(hours=2), False),
        (timedelta(hours=2) - EPSILON, False),  # 0 %
    ],
)
def test_a_paid_booking_moves_exactly_while_a_cancellation_would_refund_it_all(
    paid, customer, time_left, allowed
):
    assert customer_may_reschedule(paid_halalas=5000, policy=POLICY, time_left=time_left) is allowed
    if allowed:
        assert move(paid, customer, hours_before=time_left).booking.start == paid.start + timedelta(hours=2)
    else:
        assert refused_code(lambda: move(paid, customer, hours_before=time_left)) == "reschedule_too_late"


def test_an_unpaid_booking_moves_whatever_the_tiers(booking, customer):
    moved = move(booking, customer, hours_before=timedelta(minutes=30))
    assert moved.booking.start == booking.start + timedelta(hours=2) and moved.refund_halalas == 0


def test_the_rule_follows_the_salons_tiers(salon, paid, customer):
    salon.cancellation_policy = []  # no refunds at all: a paid booking never moves by its customer
    salon.save()
    assert (
        refused_code(lambda: move(paid, customer, hours_before=timedelta(days=20))) == "reschedule_too_late"
    )
    salon.cancellation_policy = [{"hours_before": 0, "refund_percent": 100}]  # always refunded in full
    salon.save()
    assert move(paid, customer, hours_before=timedelta(minutes=5)).booking.pk == paid.pk


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_the_salon_moves_a_paid_booking_whatever_the_tiers(paid, staff, manager, role):
    """Cancelling it, the salon would refund everything: moving it dodges nothing."""
    actor = staff.user if role == "staff" else manager
    moved = move(paid, actor, hours_before=timedelta(minutes=30))
    assert moved.booking.start == paid.start + timedelta(hours=2)


def test_a_partly_refunded_booking_is_judged_on_what_is_left(paid, customer):
    Payment.objects.filter(booking=paid).update(refunded_halalas=1000)
    assert booking_paid_halalas(booking_id=paid.pk) == 4000
    assert (
        refused_code(lambda: move(paid, customer, hours_before=timedelta(hours=3))) == "reschedule_too_late"
    )
    assert move(paid, customer, hours_before=timedelta(hours=30)).refund_halalas == 0


# --- re-pricing ------------------------------------------------------------------------------------


def test_an_unpaid_booking_takes_the_new_staff_members_price(booking, customer, dear, cheap):
    assert move(booking, customer, staff=dear).booking.price_halalas == 20000
    moved = move(booking, customer, staff=cheap)
    assert (moved.booking.price_halalas, moved.refund_halalas) == (3000, 0)
    booking.refresh_from_db()
    assert booking.price_halalas == 3000 and not Refund.objects.exists()


def test_a_hold_takes_the_new_price_too(booking, customer, dear):
    booking.status = BookingStatus.PENDING_PAYMENT
    booking.hold_expires_at = timezone.now() + timedelta(minutes=15)
    booking.save()
    assert move(booking, customer, staff=dear).booking.price_halalas == 20000


def test_the_price_does_not_change_under_a_payment_in_progress(booking, customer, dear, staff):
    """The gateway was asked for the old amount; changing it would make the payment's answer a mismatch."""
    Payment.objects.create(booking=booking, amount_halalas=5000, status=Status.INITIATED, source_type="token")
    booking.payment_status = PaymentStatus.PENDING
    booking.save(update_fields=["payment_status"])
    assert refused_code(lambda: move(booking, customer, staff=dear)) == "payment_in_progress"
    booking.refresh_from_db()
    assert (booking.staff_id, booking.price_halalas) == (staff.pk, 5000)
    assert move(booking, customer).booking.price_halalas == 5000  # the same price: it moves


def test_a_paid_booking_never_costs_more_after_a_move(paid, customer, dear, staff):
    """The audit: 5,000 booked, moved to a 20,000 barber, stayed 5,000."""
    with pytest.raises(ApplicationError) as refused:
        move(paid, customer, staff=dear)
    assert (refused.value.code, refused.value.extra) == ("price_changed", {"price_halalas": 20000})
    paid.refresh_from_db()
    assert (paid.staff_id, paid.start, paid.price_halalas) == (staff.pk, at(paid.start.date(), "10:00"), 5000)


def test_a_paid_booking_moved_to_a_lower_price_is_refunded_the_difference(paid, customer, cheap):
    moved = move(paid, customer, staff=cheap)
    assert (moved.booking.price_halalas, moved.refund_halalas) == (3000, 2000)
    refund = Refund.objects.get()
    assert (refund.amount_halalas, refund.status) == (2000, RefundStatus.REQUESTED)
    assert refund.key.startswith(f"reprice:{paid.pk}:") and "lower price" in refund.reason
    assert booking_paid_halalas(booking_id=paid.pk) == 3000  # what it costs now
    # Cancelled later by the customer, it refunds what is left, by the tiers: never the difference twice.
    cancelled = booking_cancel(booking_id=paid.pk, actor=customer, now=paid.start - timedelta(days=3))
    assert cancelled.refund_halalas == 3000


def test_a_partly_refunded_booking_gets_back_only_what_it_paid_above_the_new_price(paid, customer, cheap):
    Payment.objects.filter(booking=paid).update(refunded_halalas=1000)  # 4,000 kept of 5,000
    assert move(paid, customer, staff=cheap).refund_halalas == 1000


def test_the_api_answers_the_refund_and_the_new_codes(paid, customer, cheap, dear, day):
    client = client_for(customer)
    url = f"/api/v1/bookings/{paid.pk}/reschedule/"
    refused = client.post(url, {"start": f"{day}T12:00:00+03:00", "staff": dear.pk}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "price_changed"
    assert refused.json()["error"]["price_halalas"] == 20000
    body = client.post(url, {"start": f"{day}T12:00:00+03:00", "staff": cheap.pk}, format="json").json()
    assert (body["price_halalas"], body["refund_halalas"], body["staff"]) == (3000, 2000, cheap.pk)
    again = client.post(url, {"start": f"{day}T13:00:00+03:00"}, format="json").json()
    assert again["refund_halalas"] == 0
