from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import BookingStatus
from backend.fakes.fatoora import FakeFatoora
from tests.einvoicing.wiring import ENCRYPTION_KEY
from tests.support.factories import client_for, make_booking, make_salon, make_service, make_staff, make_user


@pytest.fixture
def fatoora(settings):
    with FakeFatoora() as fake:
        settings.ZATCA_BASE_URL = fake.url
        settings.ZATCA_TIMEOUT_SECONDS = 2.0
        settings.EINVOICING_KEY_ENCRYPTION_KEY = ENCRYPTION_KEY
        yield fake


@pytest.fixture
def manager():
    return make_user(name="Huda")


@pytest.fixture
def salon(manager):
    return make_salon(managers=[manager], name="Lamsa")


@pytest.fixture
def service(salon):
    return make_service(salon, name="Haircut", price_halalas=11500)


@pytest.fixture
def staff_user():
    return make_user(name="Sara")


@pytest.fixture
def staff(salon, service, staff_user):
    return make_staff(salon, services=[service], user=staff_user)


@pytest.fixture
def customer():
    return make_user(name="Noura", language="en")


@pytest.fixture
def booking(service, staff, customer):
    """A confirmed booking that started half an hour ago."""
    return make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=timezone.now() - timedelta(minutes=30),
        status=BookingStatus.CONFIRMED,
    )


@pytest.fixture
def manager_client(manager):
    return client_for(manager)
