"""GET /bookings/{id}/invoices/ (+ XML and receipt) and GET manage/salons/{id}/invoices/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.einvoicing import qr, verify
from backend.einvoicing.models import Document
from backend.payments.models import Refund, RefundStatus
from backend.payments.services.refunds import _refund_settle
from tests.einvoicing.wiring import make_paid_payment, make_tax_profile, onboard
from tests.support.factories import client_for, make_booking, make_user

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {"id", "kind", "number", "uuid", "issued_at", "total_halalas", "vat_halalas", "qr"}
CONTRACT_FIELDS |= {"status", "xml_url", "html_url"}


@pytest.fixture
def invoiced(booking, fatoora):
    """An onboarded salon; the booking paid online, then half refunded."""
    make_tax_profile(booking.salon)
    onboard(booking.salon)
    payment = make_paid_payment(booking)
    refund = Refund.objects.create(payment=payment, amount_halalas=5750, key="manual:1", reason="unhappy")
    _refund_settle(refund, booking, status=RefundStatus.SUCCEEDED)
    return booking


def test_the_customer_sees_the_invoice_and_the_credit_note(invoiced, customer):
    response = client_for(customer).get(f"/api/v1/bookings/{invoiced.pk}/invoices/")
    assert response.status_code == 200
    invoice, note = response.json()
    assert set(invoice) == set(
        [
            "id",
            "kind",
            "number",
            "uuid",
            "issued_at",
            "total_halalas",
            "vat_halalas",
            "qr",
            "status",
            "xml_url",
            "html_url",
        ]
    )
    assert (invoice["kind"], invoice["total_halalas"], invoice["vat_halalas"], invoice["status"]) == (
        "invoice",
        11500,
        1500,
        "issued",
    )
    assert (note["kind"], note["total_halalas"], note["vat_halalas"]) == ("credit_note", 5750, 750)
    assert qr.decode(invoice["qr"]).total == "115.00"
    assert invoice["issued_at"].endswith("+03:00")  # the salon's time zone
    xml = client_for(customer).get(invoice["xml_url"])
    assert xml["Content-Type"] == "text/xml; charset=utf-8"
    assert xml.content == bytes(Document.objects.get(kind="invoice").signed_xml)
    assert verify.verify_document(xml.content).problems == []
    html = client_for(customer).get(invoice["html_url"])
    assert html["Content-Type"].startswith("text/html")
    text = html.content.decode()
    assert 'dir="rtl"' in text and "فاتورة ضريبية مبسطة" in text and "Simplified Tax Invoice" in text
    assert "310122393500003" in text and "115.00 SAR" in text and "15.00 SAR" in text
    assert 'id="qr" src="data:image/svg+xml' in text
    note_html = client_for(customer).get(note["html_url"]).content.decode()
    assert "إشعار دائن" in note_html and invoice["number"] in note_html and "unhappy" in note_html


def test_others_get_404_and_staff_of_the_salon_see_them(invoiced, staff_user):
    stranger = client_for(make_user())
    assert stranger.get(f"/api/v1/bookings/{invoiced.pk}/invoices/").status_code == 404
    document = Document.objects.first()
    for kind in ("xml", "html"):
        assert (
            stranger.get(f"/api/v1/bookings/{invoiced.pk}/invoices/{document.pk}/{kind}/").status_code == 404
        )
    assert len(client_for(staff_user).get(f"/api/v1/bookings/{invoiced.pk}/invoices/").json()) == 2


def test_an_unstamped_document_serves_its_unsigned_xml_and_a_receipt_without_qr(booking, customer):
    make_tax_profile(booking.salon)
    make_paid_payment(booking)
    document = Document.objects.get()
    invoice = client_for(customer).get(f"/api/v1/bookings/{booking.pk}/invoices/").json()[0]
    assert invoice["qr"] is None
    assert client_for(customer).get(invoice["xml_url"]).content == bytes(document.unsigned_xml)
    assert "The QR code is being issued" in client_for(customer).get(invoice["html_url"]).content.decode()


def test_the_manager_lists_and_totals_the_salons_documents(invoiced, manager_client, service, staff):
    other = make_booking(
        service=service, staff=staff, start=timezone.now() - timedelta(hours=4), status="completed"
    )
    make_paid_payment(other)
    Document.objects.filter(kind="credit_note").update(status="rejected", messages=[{"code": "X"}])
    url = f"/api/v1/manage/salons/{invoiced.salon_id}/invoices/"
    body = manager_client.get(url).json()
    assert body["count"] == 3
    assert body["totals"] == {
        "count": 3,
        "total_halalas": 2 * 11500 - 5750,
        "vat_halalas": 3000 - 750,
        "currency": "SAR",
    }
    assert [row["kind"] for row in body["results"]] == ["invoice", "credit_note", "invoice"]  # newest first
    rejected = manager_client.get(url, {"status": "rejected"}).json()
    assert rejected["count"] == 1 and rejected["results"][0]["messages"] == [{"code": "X"}]
    today = timezone.localdate(timezone=invoiced.salon.tz).isoformat()
    assert manager_client.get(url, {"from": today, "to": today}).json()["count"] == 3
    assert manager_client.get(url, {"from": "2020-01-01", "to": "2020-01-02"}).json()["totals"]["count"] == 0
    assert manager_client.get(url, {"from": "nope"}).status_code == 400
    assert manager_client.get(url, {"page_size": 1}).json()["totals"]["count"] == 3
    assert client_for(make_user()).get(url).status_code == 404
