"""Every list's `page` and `page_size` (backend/core/pagination.py), through the public salon list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.salons.models import Salon
from tests.core.test_errors import assert_error_shape
from tests.support.factories import client_for, make_booking, make_salon, make_service, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def salons():
    return Salon.objects.bulk_create(Salon(name=f"Salon {n}", city="Riyadh") for n in range(101))


@pytest.mark.parametrize(("page_size", "rows"), [("2", 2), ("", 20), ("100", 100), ("1000", 100)])
def test_page_size_gives_that_many_rows_the_default_when_empty_and_at_most_100(
    api_client, salons, page_size, rows
):
    body = api_client.get("/api/v1/salons/", {"page_size": page_size}).json()
    assert (body["count"], len(body["results"])) == (101, rows)


@pytest.mark.parametrize("page_size", ["0", "-1", "ten", "null", "2.5"])
def test_a_page_size_that_is_no_count_of_rows_is_a_400_not_a_quiet_default(api_client, salons, page_size):
    """DRF answered 20 rows for all of these (found by tests/test_api_fuzz.py: the schema says integer)."""
    response = api_client.get("/api/v1/salons/", {"page_size": page_size})
    assert "page_size" in assert_error_shape(response, 400, "validation_error")["fields"]


@pytest.mark.parametrize("page", ["0", "ten", "99"])
def test_a_page_that_is_no_page_is_a_404(api_client, salons, page):
    assert_error_shape(api_client.get("/api/v1/salons/", {"page": page}), 404, "not_found")


def test_the_callers_bookings_are_paginated_as_the_schema_says():
    salon = make_salon()
    service = make_service(salon)
    staff = make_staff(salon, services=[service])
    customer = make_user()
    for days in (3, 4, 5):
        make_booking(
            service=service, staff=staff, customer=customer, start=timezone.now() + timedelta(days=days)
        )
    body = client_for(customer).get("/api/v1/bookings/", {"page_size": 2}).json()
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None) and body["next"]
