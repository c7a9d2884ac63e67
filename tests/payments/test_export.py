"""GET /me/export/ carries the caller's payments, and nobody else's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.factories import client_for, make_booking, make_paid_payment, make_user

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_callers_payments_only(booking, service, staff, customer):
    mine = make_paid_payment(booking, refunded_halalas=2500)
    someone = make_user()
    theirs_booking = make_booking(
        service=service, staff=staff, customer=someone, start=timezone.now() + timedelta(days=3)
    )
    theirs = make_paid_payment(theirs_booking)

    response = client_for(customer).get("/api/v1/me/export/")
    assert response.status_code == 200
    payments = response.json()["payments"]
    assert [p["id"] for p in payments] == [str(mine.pk)]
    exported = payments[0]
    assert exported["booking"] == booking.pk
    assert (exported["amount_halalas"], exported["currency"], exported["status"]) == (10000, "SAR", "paid")
    assert (exported["source_type"], exported["refunded_halalas"]) == ("token", 2500)
    assert exported["created_at"]

    other = client_for(someone).get("/api/v1/me/export/").json()["payments"]
    assert [p["id"] for p in other] == [str(theirs.pk)]
    assert client_for(make_user()).get("/api/v1/me/export/").json()["payments"] == []
