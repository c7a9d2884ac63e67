"""The Booking admin's cancel action calls booking_cancel, as the API does, with the admin as actor."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from backend.bookings.models import BookingStatus, CancelledBy
from backend.payments.models import Refund
from tests.support.factories import (
    make_admin,
    make_booking,
    make_paid_payment,
    make_salon,
    make_service,
    make_staff,
    make_user,
)

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/bookings/booking/"
POLICY = [{"hours_before": 24, "refund_percent": 100}, {"hours_before": 2, "refund_percent": 50}]


@pytest.fixture
def admin_user():
    return make_admin()


@pytest.fixture
def admin_client(admin_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


@pytest.fixture
def bookings():
    salon = make_salon(cancellation_policy=POLICY)
    service = make_service(salon, price_halalas=10000)
    staff = make_staff(salon, services=[service])
    # An hour ahead: the customer's own cancellation would refund nothing; the salon's refunds in full.
    paid = make_booking(service=service, staff=staff, start=timezone.now() + timedelta(hours=1))
    make_paid_payment(paid)
    done = make_booking(
        service=service,
        staff=staff,
        start=timezone.now() - timedelta(days=1),
        status=BookingStatus.COMPLETED,
    )
    return paid, done


def test_cancel_action_cancels_by_the_salon_and_reports_refused_rows(admin_client, admin_user, bookings):
    paid, done = bookings
    response = admin_client.post(
        BOOKINGS, {"action": "cancel_by_salon", "_selected_action": [paid.pk, done.pk]}, follow=True
    )
    assert response.status_code == 200
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert f"Booking {paid.pk} cancelled; 10000 halalas to refund." in texts
    assert f"Booking {done.pk} was not cancelled: This booking can no longer be cancelled." in texts

    paid.refresh_from_db()
    assert paid.status == BookingStatus.CANCELLED
    assert paid.cancelled_by == CancelledBy.SALON
    assert paid.refund_halalas == 10000
    assert Refund.objects.get(payment__booking=paid).amount_halalas == 10000
    done.refresh_from_db()
    assert done.status == BookingStatus.COMPLETED


def test_cancel_action_is_listed_in_arabic_too(admin_user, bookings):
    client = Client(HTTP_ACCEPT_LANGUAGE="ar")
    client.force_login(admin_user)
    assert "إلغاء الحجوزات المحددة" in client.get(BOOKINGS).content.decode()


def test_an_admin_user_who_does_not_act_for_the_salon_cancels_nothing(bookings):
    """Django-admin access with the change permission is not a salon role (bookings/access.py)."""
    paid, _done = bookings
    clerk = make_user(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_booking", "change_booking"]))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(clerk)
    response = client.post(
        BOOKINGS, {"action": "cancel_by_salon", "_selected_action": [paid.pk]}, follow=True
    )
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert texts == [f"Booking {paid.pk} was not cancelled: not yours to cancel"]
    paid.refresh_from_db()
    assert paid.status == BookingStatus.CONFIRMED
