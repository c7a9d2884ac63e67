from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import BookingStatus
from tests.support.factories import client_for, make_booking, make_staff, make_user


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service], name="Sara", user=make_user(name="Sara"))


@pytest.fixture
def other_staff(salon, service):
    return make_staff(salon, services=[service], name="Huda")


@pytest.fixture
def customer():
    return make_user(name="Noura Al-Harbi")


@pytest.fixture
def completed(service, staff, customer):
    """A completed booking of `customer` with `staff`, yesterday."""
    return completed_booking(service=service, staff=staff, customer=customer)


def completed_booking(*, service, staff, customer=None, days_ago: int = 1):
    start = timezone.now() - timedelta(days=days_ago, hours=2)
    return make_booking(
        service=service, staff=staff, customer=customer, start=start, status=BookingStatus.COMPLETED
    )


@pytest.fixture
def customer_client(customer):
    return client_for(customer)
