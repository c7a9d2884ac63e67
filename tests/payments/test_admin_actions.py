"""The Payment admin's refund action calls payment_refund, the managers' service: what is left, never more."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from backend.payments.models import Refund, RefundStatus, Status
from backend.payments.services import payment_refresh
from tests.payments.conftest import pay
from tests.support.factories import make_admin, make_user

pytestmark = pytest.mark.django_db

PAYMENTS = "/admin/payments/payment/"


@pytest.fixture
def paid(moyasar, client, booking):
    payment_id = pay(client, booking).json()["id"]
    moyasar.complete(payment_id)
    return payment_refresh(payment_id=payment_id)


def refund_in_full(django_client, *payments):
    response = django_client.post(
        PAYMENTS,
        {"action": "refund_in_full", "_selected_action": [str(payment.pk) for payment in payments]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_browser():
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(make_admin())
    return browser


def test_refund_action_refunds_what_is_left_and_reports_a_refused_row(moyasar, admin_browser, paid):
    texts = refund_in_full(admin_browser, paid)
    assert texts == [f"Payment {paid.pk}: refund requested; 10000 halalas refunded so far."]
    paid.refresh_from_db()
    assert paid.refunded_halalas == paid.amount_halalas == 10000
    assert paid.status == Status.REFUNDED
    refund = Refund.objects.get(payment=paid)
    assert (refund.amount_halalas, refund.status) == (10000, RefundStatus.SUCCEEDED)

    # Nothing left: refused and reported, no second refund, no 500.
    texts = refund_in_full(admin_browser, paid)
    assert texts == [f"Payment {paid.pk} was not refunded: This payment cannot do that in its current state."]
    assert Refund.objects.filter(payment=paid).count() == 1


def test_only_platform_admins_see_the_refund_action(moyasar, paid):
    staff = make_user(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_payment"))
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(staff)
    response = browser.post(PAYMENTS, {"action": "refund_in_full", "_selected_action": [str(paid.pk)]})
    assert response.status_code == 200  # the changelist again: no such action for this user
    assert not Refund.objects.filter(payment=paid).exists()
