"""Capture when the gateway's answer is lost: the payment is fetched to see whether the capture landed."""

import pytest

from backend.payments.models import Status
from tests.payments.conftest import authorize
from tests.support.api import error_code
from tests.support.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorized(moyasar, booking):
    return authorize(moyasar, booking)


def capture(manager, payment, amount):
    return client_for(manager).post(
        f"/api/v1/manage/payments/{payment.pk}/capture/", {"amount_halalas": amount}, format="json"
    )


def capture_calls(moyasar) -> int:
    return sum(1 for call in moyasar.journal() if call["path"].endswith("/capture"))


def test_a_capture_whose_answer_was_lost_but_went_through_is_applied(moyasar, manager, authorized):
    moyasar.timeout_next(1, processed=True)  # the capture lands; its answer never comes
    response = capture(manager, authorized, 6000)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["captured_halalas"]) == ("captured", 6000)
    authorized.refresh_from_db()
    assert (authorized.status, authorized.captured_halalas) == (Status.CAPTURED, 6000)
    assert capture_calls(moyasar) == 1  # settled by a look-up, not a second capture
    assert moyasar.payment(str(authorized.pk))["captured"] == 6000


def test_a_capture_that_did_not_land_is_502_and_changes_nothing(moyasar, manager, authorized):
    moyasar.timeout_next(1, processed=False)
    response = capture(manager, authorized, 6000)
    assert response.status_code == 502 and error_code(response) == "gateway_unavailable"
    authorized.refresh_from_db()
    assert (authorized.status, authorized.captured_halalas) == (Status.AUTHORIZED, 0)
    assert moyasar.payment(str(authorized.pk))["status"] == "authorized"
