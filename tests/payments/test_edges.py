"""Smaller paths: an unparseable STC Pay mobile, a deactivated payer, an error body not in Moyasar's shape."""

import pytest

from backend.bookings.models import BookingStatus
from backend.core.http import ProviderError
from backend.notifications.models import Kind, Notification
from backend.payments.models import Payment, Status
from backend.payments.services import payment_refresh
from backend.providers import moyasar as moyasar_client
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mobile", ["12", "+966 abc", "+999 123"])
def test_an_unparseable_stc_pay_mobile_is_a_400_on_mobile(moyasar, client, booking, mobile):
    response = pay(client, booking, {"type": "stcpay", "mobile": mobile}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["source"]["mobile"] == ["Enter a Saudi mobile number."]
    assert not Payment.objects.exists() and moyasar.journal() == []


def test_a_deactivated_payer_gets_no_payment_message(moyasar, client, booking, customer):
    payment_id = pay(client, booking).json()["id"]
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    moyasar.complete(payment_id)
    assert payment_refresh(payment_id=payment_id).status == Status.PAID
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED  # the money is applied all the same
    assert not Notification.objects.filter(kind=Kind.PAYMENT_RECEIVED).exists()


@pytest.mark.parametrize("body", ["<html>Bad Gateway</html>", {"error": "proxy"}, {"type": 5}])
def test_an_error_body_without_moyasars_type_gets_our_http_code(moyasar, body):
    moyasar.fail_next(1, status=502, body=body)
    with pytest.raises(ProviderError) as raised:
        moyasar_client.payment_void(gateway_id="00000000-0000-0000-0000-000000000000")
    assert (raised.value.code, raised.value.status, raised.value.retryable) == ("http_502", 502, True)


def test_moyasars_error_type_becomes_the_code(moyasar):
    with pytest.raises(ProviderError) as raised:
        moyasar_client.payment_void(gateway_id="00000000-0000-0000-0000-000000000000")
    assert (raised.value.code, raised.value.status) == ("invalid_request_error", 404)
