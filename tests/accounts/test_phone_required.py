"""403 phone_required: booking, paying (and later joining a waitlist) need a verified phone."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.accounts.permissions import (
    PhoneRequired,
    PhoneRequiredError,
    phone_required_check,
    user_has_verified_phone,
)
from backend.bookings.models import Booking
from tests.accounts.support import ARABIC, error_of
from tests.support.factories import client_for, make_booking, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def phoneless() -> User:
    return User.objects.create_user(None, name="Apple user")


def test_booking_needs_a_phone(phoneless, salon, service):
    staff = make_staff(salon, services=[service])
    client = client_for(phoneless)
    body = {"salon": salon.pk, "service": service.pk, "staff": staff.pk, "start": "2030-01-01T10:00:00+03:00"}
    error = error_of(
        client.post("/api/v1/bookings/", body, format="json", HTTP_ACCEPT_LANGUAGE="ar"),
        403,
        "phone_required",
    )
    assert ARABIC.search(error["message"])
    assert not Booking.objects.exists()
    # Reading the (empty) list stays open.
    listed = client.get("/api/v1/bookings/")
    assert listed.status_code == 200 and listed.json()["count"] == 0


def test_paying_needs_a_phone(phoneless, salon, service):
    staff = make_staff(salon, services=[service])
    start = timezone.now() + timedelta(days=2)
    booking = make_booking(service=service, staff=staff, start=start, customer=make_user())
    response = client_for(phoneless).post(
        f"/api/v1/bookings/{booking.pk}/payments/",
        {"source": {"type": "applepay", "token": "t"}},
        format="json",
    )
    error_of(response, 403, "phone_required")


def test_anonymous_callers_are_asked_to_log_in_first():
    error_of(client_for(None).post("/api/v1/bookings/", {}, format="json"), 401, "not_authenticated")
    error_of(
        client_for(None).post("/api/v1/bookings/1/payments/", {}, format="json"), 401, "not_authenticated"
    )


def test_a_caller_with_a_phone_passes_the_gate(salon, service):
    response = client_for(make_user()).post("/api/v1/bookings/", {}, format="json")
    error_of(response, 400, "validation_error")  # past the gate, into the booking's own checks


class _WaitlistJoin(APIView):
    """What a waitlist join will look like: the same permission, nothing else to write."""

    permission_classes = [PhoneRequired]

    def post(self, request):
        return Response(status=201)


def test_the_permission_and_the_check_are_reusable(phoneless):
    factory = APIRequestFactory()
    for user, status in ((phoneless, 403), (make_user(), 201)):
        request = factory.post("/waitlist/", {}, format="json")
        force_authenticate(request, user=user)
        assert _WaitlistJoin.as_view()(request).status_code == status
    assert not user_has_verified_phone(user=phoneless)
    with pytest.raises(PhoneRequiredError) as raised:
        phone_required_check(user=phoneless)
    assert raised.value.status_code == 403 and raised.value.default_code == "phone_required"
    phone_required_check(user=make_user())  # no error
