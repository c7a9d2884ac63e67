"""Two devices of one customer post the same review at the same moment: one 201, one 409, one row."""

import pytest

from backend.reviews.models import Review
from tests.bookings.test_booking_concurrency import race
from tests.reviews.conftest import completed_booking
from tests.support.factories import client_for, make_salon, make_service, make_staff, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_race_for_one_booking_leaves_one_review_and_a_clean_409():
    salon = make_salon()
    service = make_service(salon)
    staff = make_staff(salon, services=[service])
    customer = make_user()
    bookings = [completed_booking(service=service, staff=staff, customer=customer) for _ in range(2)]

    def post(booking, rating):
        client = client_for(customer)
        return lambda: client.post(
            f"/api/v1/bookings/{booking.id}/review/", {"rating": rating}, format="json"
        )

    # Four posts for one booking, and one for another booking of the same staff member (same locks).
    responses = race([post(bookings[0], rating) for rating in (1, 2, 3, 4)] + [post(bookings[1], 5)])
    statuses = sorted(response.status_code for response in responses[:4])
    assert statuses == [201, 409, 409, 409], [r.content for r in responses]
    assert {r.json()["error"]["code"] for r in responses[:4] if r.status_code == 409} == {"already_reviewed"}
    assert responses[4].status_code == 201
    assert Review.objects.count() == 2
    salon.refresh_from_db()
    staff.refresh_from_db()
    ratings = sorted(Review.objects.values_list("rating", flat=True))
    assert salon.review_count == staff.review_count == 2
    assert salon.rating == staff.rating == sum(ratings) / 2
