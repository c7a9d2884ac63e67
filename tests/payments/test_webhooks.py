"""Moyasar's webhooks, replayed from the envelopes the fake emitted, and the state machine under them."""

import itertools
import logging

import pytest

from backend.bookings.models import BookingStatus, PaymentStatus
from backend.notifications.models import Kind, Notification
from backend.payments.models import Payment, Status, WebhookEvent
from backend.payments.services import payment_apply, payment_transition_allowed
from backend.providers import moyasar as moyasar_client
from backend.providers.base import GatewayPayment
from tests.payments.conftest import CALLBACK, pay, webhook_body
from tests.support.api import error_code

pytestmark = pytest.mark.django_db

URL = "/api/v1/payments/webhook/"


def post(api_client, body):
    return api_client.post(URL, body, format="json")


@pytest.fixture
def paid(moyasar, client, booking):
    """A payment the payer completed; its webhook not delivered yet."""
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)
    return payment_id


def test_a_paid_webhook_confirms_the_booking(moyasar, api_client, paid, booking):
    response = post(api_client, webhook_body(moyasar, "payment_paid", paid))
    assert response.status_code == 200 and response.json() == {"outcome": "applied"}
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.PAID)
    event = WebhookEvent.objects.get()
    assert event.outcome == "applied" and str(event.payment_id) == paid and event.processed_at


def test_the_same_webhook_twenty_times_changes_things_once(moyasar, api_client, paid):
    body = webhook_body(moyasar, "payment_paid", paid)
    outcomes = [post(api_client, body).json()["outcome"] for _ in range(20)]
    assert outcomes == ["applied"] + ["duplicate"] * 19
    assert WebhookEvent.objects.count() == 1
    assert Notification.objects.filter(kind=Kind.PAYMENT_RECEIVED).count() == 1
    assert Notification.objects.filter(kind=Kind.BOOKING_CONFIRMED).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"secret_token": "wrong"},
        {"secret_token": ""},
        {"secret_token": None},
        {"secret_token": 12345},
        ["not", "an", "object"],
    ],
)
def test_a_forged_webhook_is_refused_and_nothing_is_stored(moyasar, api_client, paid, body):
    if isinstance(body, dict):
        body = {**webhook_body(moyasar, "payment_paid", paid), **body}
        if not body["secret_token"]:
            body.pop("secret_token")
    response = post(api_client, body)
    assert response.status_code == 401 and error_code(response) == "webhook_unauthorized"
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get().status == Status.INITIATED


def test_no_webhook_is_accepted_without_a_configured_secret(moyasar, api_client, paid, settings):
    settings.MOYASAR_WEBHOOK_SECRET = ""
    body = {**webhook_body(moyasar, "payment_paid", paid), "secret_token": ""}
    assert post(api_client, body).status_code == 401


def test_an_authentic_but_malformed_event_is_a_400(moyasar, api_client, paid):
    body = webhook_body(moyasar, "payment_paid", paid)
    response = post(api_client, {"secret_token": body["secret_token"], "type": "payment_paid"})
    assert response.status_code == 400 and not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda body: {**body, "data": {**body["data"], "note": "a\u0000b"}},
        lambda body: {**body, "extra": [{"key\u0000": 1}]},
        lambda body: {**body, "id": "evt\u0000"},
    ],
)
def test_a_null_character_anywhere_is_a_400_not_a_500(moyasar, api_client, paid, spoil):
    """Found by tests/test_api_fuzz.py: the body is kept as jsonb, where PostgreSQL refuses "\\u0000"."""
    response = post(api_client, spoil(webhook_body(moyasar, "payment_paid", paid)))
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not WebhookEvent.objects.exists()


def test_unknown_types_and_unknown_payments_are_acknowledged(moyasar, api_client, paid):
    body = webhook_body(moyasar, "payment_paid", paid)
    unknown_type = {**body, "id": "evt-1", "type": "payment_verified"}
    assert post(api_client, unknown_type).json() == {"outcome": "ignored"}
    stranger = {**body, "id": "evt-2", "data": {**body["data"], "id": "cb7e89a5-0000-4000-8000-000000000000"}}
    assert post(api_client, stranger).json() == {"outcome": "unknown_payment"}
    not_uuid = {**body, "id": "evt-3", "data": {"id": "pay_123"}}
    assert post(api_client, not_uuid).json() == {"outcome": "unknown_payment"}
    assert Payment.objects.get().status == Status.INITIATED


def test_the_body_is_never_trusted_the_payment_is_fetched(moyasar, api_client, client, booking):
    payment_id = pay(client, booking).json()["id"]
    forged = webhook_body(moyasar, "payment_paid", payment_id) if moyasar.webhooks() else None
    assert forged is None  # no event yet: build one claiming "paid" with the real secret
    body = {
        "id": "evt-forged",
        "type": "payment_paid",
        "secret_token": moyasar.config()["webhook_secret"],
        "data": {"id": payment_id, "status": "paid", "amount": 10000, "currency": "SAR"},
    }
    assert post(api_client, body).json() == {"outcome": "unchanged"}
    assert Payment.objects.get().status == Status.INITIATED


def test_an_amount_mismatch_is_recorded_and_changes_nothing(moyasar, api_client, client, booking, caplog):
    payment = Payment.objects.create(booking=booking, amount_halalas=10000, source_type="token")
    moyasar_client.payment_create(  # the gateway holds another amount under our id
        given_id=str(payment.pk),
        amount=100,
        currency="SAR",
        description="x",
        callback_url=CALLBACK,
        source={"type": "token", "token": "tok"},
        metadata={},
    )
    moyasar.complete(str(payment.pk))
    with caplog.at_level(logging.ERROR, logger="backend.payments.services"):
        response = post(api_client, webhook_body(moyasar, "payment_paid", str(payment.pk)))
    assert response.status_code == 200 and response.json() == {"outcome": "mismatch"}
    assert WebhookEvent.objects.get().outcome == "mismatch"
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert any("we expect 10000 SAR" in record.getMessage() for record in caplog.records)


def test_a_webhook_the_gateway_cannot_confirm_is_answered_502_and_processed_on_redelivery(
    moyasar, api_client, paid, booking
):
    body = webhook_body(moyasar, "payment_paid", paid)
    moyasar.down = True
    response = post(api_client, body)
    assert response.status_code == 502 and error_code(response) == "gateway_unavailable"
    assert WebhookEvent.objects.get().processed_at is None
    moyasar.down = False
    assert post(api_client, body).json() == {"outcome": "applied"}


def test_a_refund_webhook_arriving_before_the_paid_one(moyasar, api_client, paid, booking):
    moyasar_client.payment_refund(gateway_id=paid, amount=4000)
    moyasar.wait_webhooks()
    assert post(api_client, webhook_body(moyasar, "payment_refunded", paid)).json()["outcome"] == "applied"
    assert post(api_client, webhook_body(moyasar, "payment_paid", paid)).json()["outcome"] == "unchanged"
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PARTIALLY_REFUNDED,
    )
    assert Payment.objects.get().refunded_halalas == 4000


def snapshot(payment_id, status, refunded=0) -> GatewayPayment:
    return GatewayPayment(
        gateway_id=str(payment_id),
        status=status,
        amount=10000,
        currency="SAR",
        refunded=refunded,
        captured=0,
        transaction_url="",
        message="",
        raw={"status": status},
    )


@pytest.mark.parametrize(
    "order", list(itertools.permutations([("paid", 0), ("failed", 0), ("refunded", 10000), ("initiated", 0)]))
)
def test_every_order_of_news_ends_in_the_furthest_state(booking, order):
    payment = Payment.objects.create(booking=booking, amount_halalas=10000, source_type="token")
    for status, refunded in order:
        payment_apply(payment_id=payment.pk, remote=snapshot(payment.pk, status, refunded))
    payment.refresh_from_db()
    booking.refresh_from_db()
    # "failed" before any success is final; otherwise the money arrived and went back.
    success_first = next(status for status, _ in order if status != "initiated") != "failed"
    if success_first:
        assert (payment.status, payment.refunded_halalas) == (Status.REFUNDED, 10000)
        assert (booking.status, booking.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.REFUNDED)
        assert Notification.objects.filter(kind=Kind.PAYMENT_RECEIVED).count() == 1
    else:
        assert payment.status == Status.FAILED
        assert booking.status == BookingStatus.PENDING_PAYMENT


def test_the_state_machine_never_moves_backwards():
    assert payment_transition_allowed(current="initiated", new="paid")
    assert not payment_transition_allowed(current="paid", new="initiated")
    assert not payment_transition_allowed(current="refunded", new="paid")
    assert not payment_transition_allowed(current="failed", new="paid")
    assert not payment_transition_allowed(current="paid", new="verified")


def test_amounts_only_grow(booking):
    payment = Payment.objects.create(booking=booking, amount_halalas=10000, source_type="token")
    payment_apply(payment_id=payment.pk, remote=snapshot(payment.pk, "paid", 6000))
    assert payment_apply(payment_id=payment.pk, remote=snapshot(payment.pk, "paid", 2000)) == "unchanged"
    payment.refresh_from_db()
    assert payment.refunded_halalas == 6000 and payment.status == Status.PAID


def test_the_secret_token_is_not_stored(moyasar, api_client, paid, settings):
    """Found by the audit (issue 16): every WebhookEvent kept the shared secret in its payload."""
    body = webhook_body(moyasar, "payment_paid", paid)
    assert body["secret_token"] == settings.MOYASAR_WEBHOOK_SECRET
    assert post(api_client, body).json() == {"outcome": "applied"}
    payload = WebhookEvent.objects.get().payload
    assert "secret_token" not in payload
    assert payload == {key: value for key, value in body.items() if key != "secret_token"}
    assert settings.MOYASAR_WEBHOOK_SECRET not in str(payload)


def test_the_migration_strips_it_from_rows_stored_before(db):
    import importlib

    from django.db import connection

    migration = importlib.import_module("backend.payments.migrations.0002_strip_webhook_secret_tokens")
    old = WebhookEvent.objects.create(
        event_id="evt_old", type="payment_paid", payload={"id": "evt_old", "secret_token": "s", "data": {}}
    )
    clean = WebhookEvent.objects.create(event_id="evt_new", type="payment_paid", payload={"id": "evt_new"})
    with connection.cursor() as cursor:
        cursor.execute(migration.STRIP)
    old.refresh_from_db()
    clean.refresh_from_db()
    assert old.payload == {"id": "evt_old", "data": {}}
    assert clean.payload == {"id": "evt_new"}
