"""The payments admin for a platform admin: pages render, rows are read-only, Moyasar ids are searchable."""

import pytest
from django.test import Client

from backend.payments.models import Refund, WebhookEvent
from tests.support.factories import make_admin, make_paid_payment

pytestmark = pytest.mark.django_db

ADMIN = "/admin/payments"


@pytest.fixture
def browser():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_admin())
    return client


@pytest.fixture
def rows(booking, service, staff):
    payment = make_paid_payment(booking)
    refund = Refund.objects.create(payment=payment, amount_halalas=2500, key=f"manual:{payment.pk}")
    event = WebhookEvent.objects.create(
        event_id="evt_moyasar_1",
        type="payment_paid",
        payment=payment,
        payload={"id": "evt_moyasar_1", "type": "payment_paid", "data": {"id": str(payment.pk)}},
        outcome="applied",
    )
    return payment, refund, event


def test_changelists_and_change_pages_render_for_a_superuser(browser, rows):
    payment, refund, event = rows
    for model, row in (("payment", payment), ("refund", refund), ("webhookevent", event)):
        listing = browser.get(f"{ADMIN}/{model}/")
        assert listing.status_code == 200, model
        assert f"{ADMIN}/{model}/{row.pk}/change/" in listing.content.decode()
        page = browser.get(f"{ADMIN}/{model}/{row.pk}/change/")
        assert page.status_code == 200, model
        assert str(row) in page.content.decode()  # the title names the row
    # The payment's page lists its refunds inline, without a way to add one.
    page = browser.get(f"{ADMIN}/payment/{payment.pk}/change/").content.decode()
    assert f"manual:{payment.pk}" in page and 'name="refunds-MAX_NUM_FORMS" value="0"' in page


def test_raw_webhook_payloads_are_read_only(browser, rows):
    _payment, _refund, event = rows
    page = browser.get(f"{ADMIN}/webhookevent/{event.pk}/change/").content.decode()
    assert "evt_moyasar_1" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert 'name="payload"' not in page  # shown, not an input
    forged = {"event_id": "evt_moyasar_1", "type": "payment_paid", "payload": '{"forged": true}'}
    response = browser.post(f"{ADMIN}/webhookevent/{event.pk}/change/", forged)
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.payload["data"]["id"] == str(rows[0].pk) and "forged" not in event.payload
    assert browser.post(f"{ADMIN}/webhookevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert browser.get(f"{ADMIN}/webhookevent/add/").status_code == 403
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


def test_search_by_moyasar_id(browser, rows, booking, service, staff):
    from datetime import timedelta

    from django.utils import timezone

    from tests.support.factories import make_booking

    payment, refund, event = rows
    other_booking = make_booking(
        service=service, staff=staff, start=timezone.now() + timedelta(days=3), status="confirmed"
    )
    other = make_paid_payment(other_booking)
    # Our payment id is Moyasar's id (given_id).
    found = browser.get(f"{ADMIN}/payment/", {"q": str(payment.pk)}).content.decode()
    assert f"/{payment.pk}/change/" in found and f"/{other.pk}/change/" not in found
    found = browser.get(f"{ADMIN}/refund/", {"q": str(payment.pk)}).content.decode()
    assert f"/refund/{refund.pk}/change/" in found
    assert (
        f"/refund/{refund.pk}/change/"
        not in browser.get(f"{ADMIN}/refund/", {"q": str(other.pk)}).content.decode()
    )
    for query in ("evt_moyasar_1", str(payment.pk)):
        found = browser.get(f"{ADMIN}/webhookevent/", {"q": query}).content.decode()
        assert f"/webhookevent/{event.pk}/change/" in found, query
    missing = browser.get(f"{ADMIN}/webhookevent/", {"q": "evt_unknown"}).content.decode()
    assert f"/webhookevent/{event.pk}/change/" not in missing
