"""Who may act on a booking (backend/bookings/access.py), cell by cell: every booking-scoped action, by
every role, for a booking of either of two salons, through the API and through the services directly."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from backend.bookings.access import booking_access_for_pay
from backend.bookings.models import BookingStatus
from backend.bookings.services import (
    booking_cancel,
    booking_complete,
    booking_mark_no_show,
    booking_reschedule,
)
from backend.core.errors import ApplicationError
from backend.reviews.services import review_create
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

ROLES = (
    "customer",
    "other_customer",
    "staff",
    "other_staff",
    "manager",
    "other_manager",
    "admin",
    "anonymous",
)
SALON_SIDE = ("staff", "manager", "admin")  # act in the salon's name
STRANGERS = ("other_customer", "other_staff", "other_manager")  # may not see the booking

# action -> (expected status for each role). "booking" is upcoming and confirmed unless the action says.
EXPECTED = {
    "view": {"customer": 200, **dict.fromkeys(SALON_SIDE, 200)},
    "cancel": {"customer": 200, **dict.fromkeys(SALON_SIDE, 200)},
    "reschedule": {"customer": 200, **dict.fromkeys(SALON_SIDE, 200)},
    "complete": {"customer": 403, **dict.fromkeys(SALON_SIDE, 200)},
    "no_show": {"customer": 403, **dict.fromkeys(SALON_SIDE, 200)},
    # An empty body: the customer gets past access to the body's validation (400); nobody else pays.
    "pay": {"customer": 400, **dict.fromkeys(SALON_SIDE, 404)},
    "review": {"customer": 201, **dict.fromkeys(SALON_SIDE, 403)},
}
STARTED = {"complete", "no_show", "review"}


class World:
    """Two salons, each with a manager, a staff member who logs in, a service; a customer of each."""

    def __init__(self) -> None:
        self.day = next_weekday(0)
        self.salons = {}
        for side in ("a", "b"):
            manager = make_user(name=f"Manager {side}")
            salon = make_salon(managers=[manager])
            service = make_service(salon, price_halalas=5000)
            staff = make_staff(salon, services=[service], user=make_user(name=f"Staff {side}"))
            self.salons[side] = {"salon": salon, "service": service, "staff": staff, "manager": manager}
        self.customer = make_user(name="Customer")
        self.other_customer = make_user(name="Other customer")
        self.admin = make_admin()

    def user(self, role: str, side: str):
        other = "b" if side == "a" else "a"
        return {
            "customer": self.customer,
            "other_customer": self.other_customer,
            "staff": self.salons[side]["staff"].user,
            "other_staff": self.salons[other]["staff"].user,
            "manager": self.salons[side]["manager"],
            "other_manager": self.salons[other]["manager"],
            "admin": self.admin,
            "anonymous": None,
        }[role]

    def booking(self, side: str, *, started: bool = False):
        place = self.salons[side]
        if started:
            start = timezone.now() - timedelta(hours=2)
            status = BookingStatus.COMPLETED
        else:
            start = at(self.day, "10:00")
            status = BookingStatus.CONFIRMED
        return make_booking(
            service=place["service"], staff=place["staff"], customer=self.customer, start=start, status=status
        )


@pytest.fixture
def world() -> World:
    return World()


def _act(client, action: str, booking, world: World):
    url = f"/api/v1/bookings/{booking.pk}/"
    if action == "view":
        return client.get(url)
    if action == "reschedule":
        return client.post(f"{url}reschedule/", {"start": f"{world.day}T12:00:00+03:00"}, format="json")
    if action == "pay":
        return client.post(f"{url}payments/", {}, format="json")
    if action == "review":
        return client.post(f"{url}review/", {"rating": 5}, format="json")
    path = {"cancel": "cancel/", "complete": "complete/", "no_show": "no-show/"}[action]
    return client.post(f"{url}{path}", {}, format="json")


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_every_action_by_every_role(world, action, role, side):
    booking = world.booking(side, started=action in STARTED)
    if action in {"complete", "no_show"}:
        booking.status = BookingStatus.CONFIRMED
        booking.save(update_fields=["status"])
    expected = 401 if role == "anonymous" else EXPECTED[action].get(role, 404)
    response = _act(client_for(world.user(role, side)), action, booking, world)
    assert response.status_code == expected, (action, role, response.content)


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_the_list_shows_exactly_what_the_detail_shows(world, role, side):
    booking = world.booking(side)
    listed = client_for(world.user(role, side)).get("/api/v1/bookings/").json()["results"]
    assert ([row["id"] for row in listed] == [booking.pk]) == (EXPECTED["view"].get(role) == 200)


def test_who_cancels_decides_the_refund_rule(world):
    """The customer cancels as the customer (tiers); the salon's side as the salon (in full)."""
    mine = world.booking("a")
    assert booking_cancel(booking_id=mine.pk, actor=world.customer).cancelled_by == "customer"
    for role in SALON_SIDE:
        booking = world.booking("a")
        assert booking_cancel(booking_id=booking.pk, actor=world.user(role, "a")).cancelled_by == "salon"


def test_a_customer_who_works_at_the_salon_cancels_their_own_booking_as_its_customer(world):
    staff_user = world.user("staff", "a")
    booking = world.booking("a")
    booking.customer = staff_user
    booking.save(update_fields=["customer"])
    assert booking_cancel(booking_id=booking.pk, actor=staff_user).cancelled_by == "customer"


@pytest.mark.parametrize("role", STRANGERS)
def test_the_services_refuse_strangers_whatever_path_calls_them(world, role):
    upcoming = world.booking("a")
    started = world.booking("a", started=True)
    started.status = BookingStatus.CONFIRMED
    started.save(update_fields=["status"])
    stranger = world.user(role, "a")
    calls = [
        lambda: booking_cancel(booking_id=upcoming.pk, actor=stranger),
        lambda: booking_reschedule(booking_id=upcoming.pk, actor=stranger, start=at(world.day, "12:00")),
        lambda: booking_complete(booking_id=started.pk, actor=stranger),
        lambda: booking_mark_no_show(booking_id=started.pk, actor=stranger),
        lambda: booking_access_for_pay(user=stranger, booking=upcoming),
        lambda: review_create(booking=started, actor=stranger, rating=5),
    ]
    for call in calls:
        with pytest.raises(Http404):
            call()
    upcoming.refresh_from_db()
    assert upcoming.status == BookingStatus.CONFIRMED and upcoming.start == at(world.day, "10:00")


def test_the_customer_may_not_close_their_own_booking(world):
    started = world.booking("a", started=True)
    started.status = BookingStatus.CONFIRMED
    started.save(update_fields=["status"])
    with pytest.raises(ApplicationError) as refused:
        booking_complete(booking_id=started.pk, actor=world.customer)
    assert (refused.value.code, refused.value.status) == ("permission_denied", 403)


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_staff_and_managers_may_not_review_their_own_salon(world, role):
    """Issue 16 (Low): a manager (or staff member) booked at their own salon and reviewed it."""
    insider = world.user(role, "a")
    booking = world.booking("a", started=True)
    booking.customer = insider
    booking.save(update_fields=["customer"])
    response = client_for(insider).post(
        f"/api/v1/bookings/{booking.pk}/review/", {"rating": 5}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cannot_review_own_salon"
    with pytest.raises(ApplicationError):
        review_create(booking=booking, actor=insider, rating=5)
    # At another salon they are a customer like any other.
    elsewhere = world.booking("b", started=True)
    elsewhere.customer = insider
    elsewhere.save(update_fields=["customer"])
    assert review_create(booking=elsewhere, actor=insider, rating=4).rating == 4


def test_a_platform_admin_reviews_like_any_customer(world):
    booking = world.booking("a", started=True)
    booking.customer = world.admin
    booking.save(update_fields=["customer"])
    assert review_create(booking=booking, actor=world.admin, rating=3).rating == 3
