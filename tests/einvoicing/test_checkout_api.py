"""POST manage/salons/{id}/bookings/{bid}/checkout/: the in-salon payment and its invoice."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from backend.bookings.models import BookingStatus
from backend.einvoicing.models import Document
from backend.payments.models import InSalonPayment
from tests.einvoicing.wiring import make_paid_payment, make_tax_profile
from tests.support.factories import client_for, make_booking, make_salon, make_user

pytestmark = pytest.mark.django_db


def checkout(client, booking, salon=None, **body):
    salon_id = (salon or booking.salon).pk
    url = f"/api/v1/manage/salons/{salon_id}/bookings/{booking.pk}/checkout/"
    return client.post(url, {"method": "cash", **body}, format="json")


def code(response) -> str:
    return response.json()["error"]["code"]


def test_staff_checks_out_a_started_booking_with_a_tip(booking, staff_user):
    make_tax_profile(booking.salon)
    response = checkout(client_for(staff_user), booking, method="mada", tip_halalas=1000)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["payment_status"], body["status"]) == ("paid", "completed")
    payment = InSalonPayment.objects.get()
    assert (payment.method, payment.amount_halalas, payment.tip_halalas, payment.recorded_by) == (
        "mada",
        11500,
        1000,
        staff_user,
    )
    document = Document.objects.get()
    assert (document.in_salon_payment, document.payment_means, document.total_halalas) == (
        payment,
        "mada",
        12500,
    )
    assert [line["name"] for line in document.lines] == ["Haircut", "Tip"]
    assert document.vat_halalas == 1500 + 130  # the tip is taxed at the salon's rate too
    assert str(payment) == f"{booking.pk} 11500+1000 SAR mada"
    entry = LogEntry.objects.get_for_model(InSalonPayment).get()
    assert entry.actor == staff_user


def test_a_manager_checks_out_and_a_salon_without_tax_profile_issues_nothing(booking, manager_client):
    response = checkout(manager_client, booking)
    assert response.status_code == 200
    assert not Document.objects.exists()
    booking.refresh_from_db()
    assert booking.payment_status == "paid"


def test_checkout_refusals(booking, manager_client, service, staff):
    later = make_booking(service=service, staff=staff, start=timezone.now() + timedelta(hours=3))
    assert code(checkout(manager_client, later)) == "not_started"
    cancelled = make_booking(
        service=service,
        staff=staff,
        start=timezone.now() - timedelta(hours=5),
        status=BookingStatus.CANCELLED,
    )
    assert code(checkout(manager_client, cancelled)) == "invalid_booking_state"
    make_paid_payment(booking)
    assert code(checkout(manager_client, booking)) == "already_paid"
    assert checkout(manager_client, booking, method="bitcoin").status_code == 400
    assert checkout(manager_client, booking, tip_halalas=-1).status_code == 400


def test_an_online_payment_under_way_blocks_the_checkout(booking, manager_client):
    make_paid_payment(booking, status="initiated")
    response = checkout(manager_client, booking)
    assert (response.status_code, code(response)) == (409, "payment_in_progress")
    arabic = manager_client.post(
        f"/api/v1/manage/salons/{booking.salon_id}/bookings/{booking.pk}/checkout/",
        {"method": "cash"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    assert arabic.json()["error"]["message"] == "هناك دفعة إلكترونية لهذا الحجز قيد التنفيذ."


def test_only_the_salons_staff_and_managers_may_check_out(booking, customer, manager_client):
    assert checkout(client_for(customer), booking).status_code == 404
    assert checkout(client_for(make_user()), booking).status_code == 404
    other = make_salon(managers=[booking.salon.managers.first()])
    assert checkout(manager_client, booking, salon=other).status_code == 404
    assert not InSalonPayment.objects.exists()
