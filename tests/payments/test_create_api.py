"""Paying for a booking through the API, with the real Moyasar client against the fake Moyasar over HTTP."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import BookingStatus, PaymentStatus
from backend.notifications.models import Kind, Notification
from backend.payments.models import Payment, Status
from backend.payments.services import payments_reconcile
from backend.providers import moyasar as moyasar_client
from tests.payments.conftest import CALLBACK, pay
from tests.support.api import error_code
from tests.support.factories import client_for, make_admin, make_paid_payment, make_user

pytestmark = pytest.mark.django_db


def later(seconds: int = 3600):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_card_payment_starts_3ds_and_the_return_confirms_the_booking(moyasar, client, booking, customer):
    response = pay(client, booking)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount_halalas"], body["currency"]) == ("initiated", 10000, "SAR")
    assert body["transaction_url"].endswith(f"/_control/3ds/{body['id']}")
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.PENDING and booking.status == BookingStatus.PENDING_PAYMENT
    remote = moyasar.payment(body["id"])  # given_id is the gateway's id
    assert remote["amount"] == 10000 and remote["callback_url"] == CALLBACK
    assert moyasar.journal()[0]["headers"]["authorization"].startswith("Basic ")

    moyasar.complete(body["id"])  # the payer passes 3-D Secure (the webhook goes nowhere)
    returned = client.get(f"/api/v1/payments/{body['id']}/")
    assert returned.status_code == 200 and returned.json()["status"] == "paid"
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.PAID)
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == [Kind.BOOKING_CONFIRMED, Kind.PAYMENT_RECEIVED]
    assert "SAR 100.00" in Notification.objects.get(kind=Kind.PAYMENT_RECEIVED).body
    # Final: no more gateway calls on read.
    calls = len(moyasar.journal())
    assert client.get(f"/api/v1/payments/{body['id']}/").json()["status"] == "paid"
    assert len(moyasar.journal()) == calls


def test_apple_pay_settles_at_creation(moyasar, client, booking):
    body = pay(client, booking, {"type": "applepay", "token": '{"paymentData": "..."}'}).json()
    assert body["status"] == "paid" and body["source_type"] == "applepay"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_stc_pay_gets_the_local_mobile_form(moyasar, client, booking):
    response = pay(client, booking, {"type": "stcpay", "mobile": "+966 50 123 4567"})
    assert response.status_code == 201, response.content
    assert moyasar.payment(response.json()["id"])["source"]["mobile"] == "0501234567"


@pytest.mark.parametrize(
    "source",
    [
        {"type": "creditcard", "name": "A B"},
        {"type": "creditcard", "number": "4111111111111111", "cvc": "123", "month": 1, "year": 2030},
        {"type": "token", "token": "tok", "number": "4111111111111111"},
    ],
)
def test_card_data_is_refused_and_nothing_is_made(moyasar, client, booking, source):
    response = pay(client, booking, source)
    assert response.status_code == 400 and error_code(response) == "raw_card_refused"
    assert not Payment.objects.exists() and moyasar.journal() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": {"type": "token", "token": "t"}, "callback_url": "ftp://example.com/x"}, "callback_url"),
        ({"source": {"type": "token", "token": "t"}, "callback_url": "javascript:alert(1)"}, "callback_url"),
        ({"source": {"type": "token", "token": "t"}}, "callback_url"),
        ({"source": {"type": "token"}, "callback_url": CALLBACK}, "source"),
        ({"source": {"type": "bitcoin", "token": "t"}, "callback_url": CALLBACK}, "source"),
        ({"source": "token", "callback_url": CALLBACK}, "source"),
        ({"source": {"type": "stcpay", "mobile": "0112345678"}, "callback_url": CALLBACK}, "source"),
        ({"source": {"type": "stcpay", "mobile": "+201001234567"}, "callback_url": CALLBACK}, "source"),
        ({"source": {"type": "stcpay", "mobile": "x" * 40}, "callback_url": CALLBACK}, "source"),
        ({"source": {"type": "token", "token": "t" * 30000}, "callback_url": CALLBACK}, "source"),
        ({"callback_url": CALLBACK}, "source"),
    ],
)
def test_bad_input_is_a_400_with_nothing_made(moyasar, client, booking, body, field):
    response = client.post(f"/api/v1/bookings/{booking.id}/payments/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Payment.objects.exists()


def test_only_the_customer_may_pay(moyasar, booking, staff, manager, api_client):
    for other in (make_user(), staff.user, manager, make_admin()):
        assert pay(client_for(other), booking).status_code == 404
    assert pay(api_client, booking).status_code == 401
    assert pay(client_for(make_user()), type("B", (), {"id": 10**9})()).status_code == 404


def test_a_paid_booking_answers_already_paid(moyasar, client, booking):
    make_paid_payment(booking)
    response = pay(client, booking)
    assert response.status_code == 409 and error_code(response) == "already_paid"


@pytest.mark.parametrize(
    "change",
    [
        {"status": BookingStatus.CANCELLED},
        {"status": BookingStatus.EXPIRED},
        {"hold_expires_at": timezone.now() - timedelta(minutes=1)},
        {"price_halalas": 50},
    ],
)
def test_a_booking_that_cannot_be_paid_answers_409(moyasar, client, booking, change):
    for field, value in change.items():
        setattr(booking, field, value)
    booking.save()
    response = pay(client, booking)
    assert response.status_code == 409 and error_code(response) == "not_payable"


def test_a_declined_card_fails_and_the_booking_stays_held(moyasar, client, booking):
    body = pay(client, booking, {"type": "token", "token": "token_decline_x"}).json()
    moyasar.complete(body["id"])
    failed = client.get(f"/api/v1/payments/{body['id']}/").json()
    assert failed["status"] == "failed" and failed["message"] == "Declined"
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (BookingStatus.PENDING_PAYMENT, PaymentStatus.UNPAID)
    assert pay(client, booking).status_code == 201  # another try is allowed


def test_a_refusal_by_the_gateway_is_a_400_and_the_row_fails(moyasar, client, booking):
    moyasar.fail_next(1, status=400)
    response = pay(client, booking)
    assert response.status_code == 400 and error_code(response) == "payment_rejected"
    assert Payment.objects.get().status == Status.FAILED


def test_a_wrong_secret_key_is_a_502_and_the_row_fails(moyasar, client, booking, settings):
    settings.MOYASAR_SECRET_KEY = "sk_test_wrong"
    response = pay(client, booking)
    assert response.status_code == 502 and error_code(response) == "gateway_unavailable"
    assert Payment.objects.get().status == Status.FAILED


def test_a_lost_create_answer_is_recovered_by_given_id(moyasar, client, booking):
    moyasar.timeout_next(1, processed=True)  # created, but the answer never comes
    response = pay(client, booking)
    assert response.status_code == 201 and response.json()["status"] == "initiated"
    assert len(moyasar.payments()) == 1


def test_a_create_that_never_arrived_is_made_once_more(moyasar, client, booking):
    moyasar.timeout_next(1, processed=False)
    response = pay(client, booking)
    assert response.status_code == 201
    assert [p["id"] for p in moyasar.payments()] == [response.json()["id"]]


def test_a_create_lost_for_good_is_settled_by_the_reconciler_when_it_was_made(moyasar, client, booking):
    moyasar.timeout_next(3, processed=True)  # create, and both look-ups, time out
    response = pay(client, booking)
    assert response.status_code == 502 and error_code(response) == "gateway_unavailable"
    payment = Payment.objects.get()
    assert payment.status == Status.PENDING
    assert payments_reconcile(now=timezone.now()) == 0  # too young to reconcile
    assert payments_reconcile(now=later()) == 1
    payment.refresh_from_db()
    assert payment.status == Status.INITIATED and payment.transaction_url
    moyasar.complete(str(payment.pk))
    payments_reconcile(now=later())
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_status == PaymentStatus.PAID


def test_a_create_lost_for_good_is_failed_by_the_reconciler_when_it_was_not_made(moyasar, client, booking):
    moyasar.timeout_next(3, processed=False)
    assert pay(client, booking).status_code == 502
    payment = Payment.objects.get()
    moyasar.down = True  # a look-up that fails says nothing: still pending
    payments_reconcile(now=later())
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    moyasar.down = False
    payments_reconcile(now=later())
    payment.refresh_from_db()
    assert payment.status == Status.FAILED and payment.message == "never created at the gateway"
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.UNPAID
    assert payments_reconcile(now=later(7 * 24 * 3600)) == 0  # nothing open is left


def test_the_same_idempotency_key_makes_one_payment(moyasar, client, booking):
    first = pay(client, booking, HTTP_IDEMPOTENCY_KEY="pay-1")
    again = pay(client, booking, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert len(moyasar.payments()) == 1


def test_a_retry_after_a_502_continues_the_same_payment(moyasar, client, booking):
    moyasar.timeout_next(3, processed=True)
    assert pay(client, booking, HTTP_IDEMPOTENCY_KEY="pay-2").status_code == 502
    retry = pay(client, booking, HTTP_IDEMPOTENCY_KEY="pay-2")
    assert retry.status_code == 201 and retry.json()["status"] == "initiated"
    assert Payment.objects.count() == 1 and len(moyasar.payments()) == 1
    assert retry.json()["id"] == str(Payment.objects.get().pk)


def test_a_rerun_after_a_crash_continues_the_payment_the_gateway_already_has(moyasar, client, booking):
    # The first run committed its row and reached the gateway, then died before answering.
    payment = Payment.objects.create(
        booking=booking, amount_halalas=10000, source_type="token", request_key="pay-3"
    )
    moyasar_client.payment_create(
        given_id=str(payment.pk),
        amount=10000,
        currency="SAR",
        description="x",
        callback_url=CALLBACK,
        source={"type": "token", "token": "tok"},
        metadata={},
    )
    response = pay(client, booking, HTTP_IDEMPOTENCY_KEY="pay-3")
    assert response.status_code == 201 and response.json()["id"] == str(payment.pk)
    assert len(moyasar.payments()) == 1
    # A payment the gateway already answered for is returned as it is.
    Payment.objects.filter(pk=payment.pk).update(request_key="pay-4")
    replay = pay(client, booking, HTTP_IDEMPOTENCY_KEY="pay-4")
    assert replay.json()["id"] == str(payment.pk) and len(moyasar.journal()) == 3


def test_anyone_who_may_see_the_booking_may_read_its_payment(moyasar, client, booking, staff, manager):
    payment_id = pay(client, booking).json()["id"]
    for reader in (staff.user, manager, make_admin()):
        assert client_for(reader).get(f"/api/v1/payments/{payment_id}/").status_code == 200
    assert client_for(make_user()).get(f"/api/v1/payments/{payment_id}/").status_code == 404
    assert client.get(f"/api/v1/payments/{uuid.uuid4()}/").status_code == 404


def test_a_read_while_the_gateway_is_down_answers_what_we_know(moyasar, client, booking):
    payment_id = pay(client, booking).json()["id"]
    moyasar.down = True
    response = client.get(f"/api/v1/payments/{payment_id}/")
    assert response.status_code == 200 and response.json()["status"] == "initiated"
