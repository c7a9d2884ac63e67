"""Stamping after issue (backend/einvoicing/stamping.py): whoever stamps first, the reporter or a read, the
document is stamped once, the chain is the one fixed at issue, and ZATCA gets what the customer got."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.einvoicing import client, hashing, qr, stamping, verify
from backend.einvoicing.models import Document
from backend.einvoicing.reporting import unit_report
from tests.einvoicing.wiring import assert_chain, chain_of, make_paid_payment, make_tax_profile, onboard
from tests.support.factories import client_for, make_booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(booking, fatoora):
    """An onboarded salon's invoice, issued (unstamped) and not reported yet."""
    make_tax_profile(booking.salon)
    unit = onboard(booking.salon)
    make_paid_payment(booking)
    assert Document.objects.get().signed_xml is None
    return unit


def test_the_customers_first_read_stamps_and_the_reporter_reports_those_bytes(
    issued, booking, customer, fatoora, monkeypatch
):
    invoice = client_for(customer).get(f"/api/v1/bookings/{booking.pk}/invoices/").json()[0]
    document = Document.objects.get()
    assert invoice["qr"] == document.qr and qr.decode(document.qr).invoice_hash == document.invoice_hash
    served = client_for(customer).get(invoice["xml_url"]).content
    assert served == bytes(document.signed_xml)
    checked = verify.verify_document(served)
    assert checked.problems == [] and checked.invoice_hash == document.invoice_hash
    sent, real_report = [], client.report
    monkeypatch.setattr(client, "report", lambda **call: sent.append(call["xml"]) or real_report(**call))
    assert unit_report(unit_id=issued.pk).reported == 1
    assert sent == [served]  # reported as the customer got it, not stamped again
    assert [record["status"] for record in fatoora.documents()] == ["REPORTED"]
    assert_chain(chain_of(issued.pk), hashing.FIRST_PIH)


def test_a_stamp_stored_meanwhile_wins_over_a_new_one(issued):
    first, second = Document.objects.get(), Document.objects.get()
    identity = stamping.signing_identity(issued)
    stamping.document_stamped(first, identity)
    stamping.document_stamped(second, identity)  # read before the first stamp was stored
    stored = Document.objects.get()
    assert bytes(second.signed_xml) == bytes(first.signed_xml) == bytes(stored.signed_xml)
    assert second.qr == first.qr == stored.qr


def test_a_stamped_document_is_not_signed_again(issued, monkeypatch):
    document = stamping.document_stamped(Document.objects.get(), stamping.signing_identity(issued))
    signed = bytes(document.signed_xml)
    monkeypatch.setattr(stamping, "document_stamp", lambda *args: pytest.fail("signed a second time"))
    assert stamping.document_stamped(document, stamping.signing_identity(issued)) is document
    assert bytes(document.signed_xml) == signed == bytes(Document.objects.get().signed_xml)


def test_the_receipt_of_an_unreported_invoice_shows_its_qr(issued, booking, customer):
    invoice = client_for(customer).get(f"/api/v1/bookings/{booking.pk}/invoices/").json()[0]
    Document.objects.update(signed_xml=None, qr="")  # as if the list had not been read first
    page = client_for(customer).get(invoice["html_url"]).content.decode()
    assert "The QR code is being issued" not in page and "data:image/svg+xml" in page
    assert Document.objects.get().qr


def test_the_managers_list_shows_its_page_stamped(issued, manager_client, salon):
    listed = manager_client.get(f"/api/v1/manage/salons/{salon.pk}/invoices/").json()["results"]
    assert listed[0]["qr"] == Document.objects.get().qr != ""


def test_a_document_that_cannot_be_stamped_now_is_shown_unstamped(
    issued, booking, customer, settings, caplog
):
    settings.EINVOICING_KEY_ENCRYPTION_KEY = "A" * 43 + "="  # the unit's key does not decrypt with it
    with caplog.at_level(logging.ERROR, logger="backend.einvoicing.stamping"):
        response = client_for(customer).get(f"/api/v1/bookings/{booking.pk}/invoices/")
    assert response.status_code == 200 and response.json()[0]["qr"] is None
    assert "not stamped for reading" in caplog.text
    assert Document.objects.get().signed_xml is None


def test_the_reporter_reports_the_documents_before_one_that_cannot_be_stamped(
    issued, booking, service, staff, fatoora, monkeypatch
):
    for hours in (3, 5):
        make_paid_payment(
            make_booking(service=service, staff=staff, start=timezone.now() - timedelta(hours=hours))
        )
    real_stamp = stamping.document_stamp

    def second_breaks(document, identity):
        if document.counter == 2:
            raise stamping.StampMismatch("the signed hash differs")
        real_stamp(document, identity)

    monkeypatch.setattr(stamping, "document_stamp", second_breaks)
    assert unit_report(unit_id=issued.pk).status == "failed"
    first, second, third = chain_of(issued.pk)
    assert (first.status, second.status, third.status) == ("reported", "issued", "issued")
    assert first.signed_xml and not second.signed_xml and not third.signed_xml
