"""Property: after any sequence of creates, edits, hides and unhides, the ratings kept incrementally equal
both what `rebuild_ratings` computes from scratch and a plain-Python model of the rule."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.reviews.models import Review
from backend.reviews.services import review_create, review_set_hidden, review_update
from backend.salons.models import Salon, StaffMember
from tests.reviews.conftest import completed_booking
from tests.support.factories import make_salon, make_service, make_staff

pytestmark = pytest.mark.django_db

rating = st.integers(min_value=1, max_value=5)
operation = st.one_of(
    st.tuples(st.just("create"), st.integers(min_value=0, max_value=2), rating),
    st.tuples(st.just("edit"), st.integers(min_value=0, max_value=50), rating),
    st.tuples(st.just("hide"), st.integers(min_value=0, max_value=50), st.booleans()),
)


def expected(ratings: list[int]) -> tuple[Decimal, int]:
    if not ratings:
        return Decimal("0.00"), 0
    return (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP), len(ratings)


def aggregates(salon: Salon) -> dict:
    salon.refresh_from_db()
    return {
        "salon": (salon.rating, salon.review_count),
        **{staff.pk: (staff.rating, staff.review_count) for staff in StaffMember.objects.filter(salon=salon)},
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=25))
def test_rebuild_equals_incremental(operations):
    with transaction.atomic():
        salon = make_salon()
        service = make_service(salon)
        staff = [make_staff(salon, services=[service]) for _ in range(3)]
        reviews: list[Review] = []
        for kind, index, value in operations:
            if kind == "create":
                booking = completed_booking(service=service, staff=staff[index])
                reviews.append(review_create(booking=booking, actor=booking.customer, rating=value))
            elif reviews and kind == "edit":
                review = reviews[index % len(reviews)]
                review_update(booking=review.booking, actor=review.customer, data={"rating": value})
            elif reviews:
                review_set_hidden(review_id=reviews[index % len(reviews)].pk, hidden=value)

        incremental = aggregates(salon)
        visible = list(Review.objects.filter(salon=salon, is_hidden=False).values_list("staff_id", "rating"))
        assert incremental["salon"] == expected([value for _, value in visible])
        for member in staff:
            assert incremental[member.pk] == expected([value for who, value in visible if who == member.pk])

        Salon.objects.filter(pk=salon.pk).update(rating=0, review_count=0)
        StaffMember.objects.filter(salon=salon).update(rating=5, review_count=999)
        call_command("rebuild_ratings", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert aggregates(salon) == incremental
        transaction.set_rollback(True)
