from datetime import timedelta

import pytest
from django.utils import timezone

from backend.bookings.models import BookingStatus
from backend.fakes.moyasar import DEFAULT_SECRET_KEY, FakeMoyasar
from backend.payments.models import Payment, Status
from backend.payments.services import payment_refresh
from backend.providers import moyasar as moyasar_client
from tests.support.api import error_code  # noqa: F401  (re-exported for one session; import tests.support.api)
from tests.support.factories import client_for, make_booking, make_salon, make_service, make_staff, make_user

WEBHOOK_SECRET = "test-webhook-secret"
# Nobody listens there: the fake records each event (to replay through our API) and its failed delivery.
NOWHERE = "http://127.0.0.1:9/webhook"
CALLBACK = "https://app.example.com/paid"
POLICY = [{"hours_before": 24, "refund_percent": 100}, {"hours_before": 2, "refund_percent": 50}]


@pytest.fixture
def moyasar(settings):
    with FakeMoyasar(webhook_url=NOWHERE, webhook_secret=WEBHOOK_SECRET, hang_seconds=3) as fake:
        settings.MOYASAR_BASE_URL = fake.url
        settings.MOYASAR_SECRET_KEY = DEFAULT_SECRET_KEY
        settings.MOYASAR_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.MOYASAR_TIMEOUT_SECONDS = 0.5
        yield fake


@pytest.fixture
def salon(manager):
    return make_salon(managers=[manager], prepayment_required=True, cancellation_policy=POLICY)


@pytest.fixture
def service(salon):
    return make_service(salon, price_halalas=10000)


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service], user=make_user(name="Sara"))


@pytest.fixture
def customer():
    return make_user(name="Noura", language="en")


@pytest.fixture
def client(customer):
    return client_for(customer)


@pytest.fixture
def booking(service, staff, customer):
    """A held booking two days ahead, waiting for its payment."""
    return make_booking(
        service=service,
        staff=staff,
        customer=customer,
        start=timezone.now() + timedelta(days=2),
        status=BookingStatus.PENDING_PAYMENT,
        hold_expires_at=timezone.now() + timedelta(minutes=15),
    )


def pay(client, booking, source=None, callback_url=CALLBACK, **headers):
    body = {"source": source or {"type": "token", "token": "tok_good"}, "callback_url": callback_url}
    return client.post(f"/api/v1/bookings/{booking.id}/payments/", body, format="json", **headers)


def webhook_body(fake, event_type: str, payment_id: str) -> dict:
    """The last envelope of that type the fake emitted about the payment, as Moyasar would post it."""
    return next(
        record["event"]
        for record in reversed(fake.webhooks())
        if record["event"]["type"] == event_type and record["event"]["data"]["id"] == payment_id
    )


def authorize(moyasar, booking) -> Payment:
    """A manual-capture payment the payer completed: authorized, nothing captured yet."""
    payment = Payment.objects.create(booking=booking, amount_halalas=10000, source_type="token")
    moyasar_client.payment_create(
        given_id=str(payment.pk),
        amount=10000,
        currency="SAR",
        description="x",
        callback_url=CALLBACK,
        source={"type": "token", "token": "tok", "manual": True},
        metadata={},
    )
    moyasar.complete(str(payment.pk))
    assert payment_refresh(payment_id=payment.pk).status == Status.AUTHORIZED
    return payment
