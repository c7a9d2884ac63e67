"""The fake Fatoora: onboarding, then documents built, signed and reported through our real client;
tampered documents are refused with the right message."""

import base64
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lxml import etree

from backend.core.http import ProviderError
from backend.einvoicing import client, hashing, keys, signing, ubl
from backend.fakes.fatoora import DEFAULT_OTP, FakeFatoora
from tests.einvoicing.support import SUBJECT, make_document

HEADERS = {"Accept-Version": "V2"}


@pytest.fixture
def fatoora(settings):
    with FakeFatoora() as fake:
        settings.ZATCA_BASE_URL = fake.url
        yield fake


def onboard(fatoora):
    """Key, CSR, compliance CSID, the three compliance checks, production CSID: what onboarding does."""
    key = keys.generate_private_key()
    compliance = client.request_compliance_csid(
        csr_base64=keys.csr_base64(keys.build_csr(key, SUBJECT, "simulation")), otp=DEFAULT_OTP
    )
    identity = identity_for(key, compliance)
    samples = [
        make_document(issued_at=datetime.now(UTC)),
        make_document(
            kind=ubl.Kind.CREDIT_NOTE, billing_reference="INV-1", reason="Refund", issued_at=datetime.now(UTC)
        ),
        make_document(
            kind=ubl.Kind.DEBIT_NOTE, billing_reference="INV-1", reason="Extra", issued_at=datetime.now(UTC)
        ),
    ]
    with pytest.raises(ProviderError) as missing:
        client.request_production_csid(credentials=compliance)
    assert missing.value.code == "Missing-ComplianceSteps"
    for sample in samples:
        signed = signing.sign_document(ubl.build(sample), identity)
        result = client.check_compliance(
            credentials=compliance, invoice_hash=signed.invoice_hash, uuid=str(sample.uuid), xml=signed.xml
        )
        assert result.status == client.REPORTED, result.errors
    production = client.request_production_csid(credentials=compliance)
    return key, production, identity_for(key, production)


def identity_for(key, credentials):
    certificate, text = keys.certificate_from_token(credentials.binary_security_token)
    return signing.SigningIdentity(private_key=key, certificate=certificate, certificate_text=text)


class Chain:
    """Our side of the chain: counter and previous hash, as the later step will keep them per salon."""

    def __init__(self, identity, credentials):
        self.identity, self.credentials = identity, credentials
        self.counter, self.previous_hash = 0, hashing.FIRST_PIH

    def next(self, **changes):
        self.counter += 1
        changes.setdefault("issued_at", datetime.now(UTC))
        document = make_document(
            uuid=uuid.uuid4(), counter=self.counter, previous_hash=self.previous_hash, **changes
        )
        signed = signing.sign_document(ubl.build(document), self.identity)
        self.previous_hash = signed.invoice_hash
        return document, signed

    def report(self, document, signed, *, invoice_hash=None, xml=None):
        return client.report(
            credentials=self.credentials,
            invoice_hash=invoice_hash or signed.invoice_hash,
            uuid=str(document.uuid),
            xml=xml or signed.xml,
        )


@pytest.fixture
def chain(fatoora):
    _, production, identity = onboard(fatoora)
    return Chain(identity, production)


def error_codes(result):
    return {message["code"] for message in result.errors}


def test_onboarding_then_documents_in_chain_order_are_reported(fatoora, chain):
    for _ in range(3):
        result = chain.report(*chain.next())
        assert (result.status, result.http_status) == (client.REPORTED, 200)
        assert result.body["validationResults"]["infoMessages"][0]["code"] == "XSD_ZATCA_VALID"
    assert [document["counter"] for document in fatoora.documents()] == ["1", "2", "3"]
    sent = fatoora.journal()[-1]
    assert sent["headers"]["authorization"].startswith("Basic ")
    assert sent["path"] == "/e-invoicing/simulation/invoices/reporting/single"


def test_a_duplicate_answers_409_and_counts_as_reported(chain):
    document, signed = chain.next()
    chain.report(document, signed)
    again = chain.report(document, signed)
    assert (again.status, again.http_status) == (client.REPORTED, 409)


def test_a_late_document_is_reported_with_a_warning(chain):
    result = chain.report(*chain.next(issued_at=datetime.now(UTC) - timedelta(hours=30)))
    assert (result.status, result.http_status) == (client.REPORTED_WITH_WARNINGS, 202)
    assert result.warnings[0]["code"] == "BR-KSA-98"


def test_a_changed_total_is_rejected(chain):
    document, signed = chain.next()
    root = ubl.parse(signed.xml)
    root.xpath("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ubl.XPATH_NS)[0].text = "1.00"
    result = chain.report(document, signed, xml=etree.tostring(root))
    assert result.status == client.REJECTED
    assert "invalid-invoice-hash" in error_codes(result)
    assert result.body["reportingStatus"] == "NOT_REPORTED"


def test_a_wrong_pih_and_a_skipped_counter_are_rejected_and_do_not_move_the_chain(chain):
    chain.report(*chain.next())
    good_previous = chain.previous_hash
    chain.previous_hash = hashing.FIRST_PIH
    assert error_codes(chain.report(*chain.next())) == {"invalid-previous-invoice-hash"}
    chain.previous_hash, chain.counter = good_previous, chain.counter  # counter 3 now: one skipped
    assert error_codes(chain.report(*chain.next())) == {"invalid-invoice-counter"}
    chain.previous_hash, chain.counter = good_previous, 1
    assert chain.report(*chain.next()).status == client.REPORTED


def test_a_bad_signature_is_rejected(chain):
    document, _ = chain.next()
    other_key = keys.generate_private_key()
    forged = signing.sign_document(ubl.build(document), replace(chain.identity, private_key=other_key))
    result = chain.report(document, forged)
    assert "invalid-signature" in error_codes(result)


def test_a_body_hash_or_uuid_that_disagrees_with_the_xml_is_rejected(chain):
    document, signed = chain.next()
    result = chain.report(document, signed, invoice_hash=hashing.FIRST_PIH)
    assert error_codes(result) == {"invalid-invoice-hash"}
    result = client.report(
        credentials=chain.credentials,
        invoice_hash=signed.invoice_hash,
        uuid=str(uuid.uuid4()),
        xml=signed.xml,
    )
    assert error_codes(result) == {"invalid-uuid"}


def test_a_document_signed_with_another_certificate_is_rejected(fatoora, chain):
    _, _, stranger = onboard(fatoora)
    chain.identity = stranger
    result = chain.report(*chain.next())
    assert "certificate-mismatch" in error_codes(result)


def test_a_rejected_document_with_a_good_stamp_still_moves_the_chain(chain):
    document, signed = chain.next()
    root = ubl.parse(signed.xml)
    qr_path = "cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject"
    root.xpath(qr_path, namespaces=ubl.XPATH_NS)[0].text = "bm90IGEgcXI="
    assert error_codes(chain.report(document, signed, xml=etree.tostring(root))) == {"QRCODE_INVALID"}
    assert chain.report(*chain.next()).status == client.REPORTED  # chains to the rejected one


def test_credentials_and_headers_are_checked(fatoora, chain):
    wrong = client.Credentials(chain.credentials.binary_security_token, "wrong-secret")
    with pytest.raises(ProviderError) as refused:
        chain.credentials = wrong
        chain.report(*chain.next())
    assert (refused.value.status, refused.value.code, refused.value.retryable) == (401, "unauthorized", False)
    url = fatoora.url + "/invoices/reporting/single"
    assert requests.post(url, json={}, timeout=5).status_code == 406
    not_basic = requests.post(url, json={}, headers={**HEADERS, "Authorization": "Basic !!"}, timeout=5)
    assert not_basic.status_code == 401 and not_basic.json()["error"] == "Unauthorized"


def test_onboarding_refusals(fatoora):
    with pytest.raises(ProviderError) as bad_otp:
        client.request_compliance_csid(csr_base64="eA==", otp="000000")
    assert (bad_otp.value.status, bad_otp.value.code) == (400, "Invalid-OTP")
    with pytest.raises(ProviderError) as bad_csr:
        client.request_compliance_csid(csr_base64="eA==", otp=DEFAULT_OTP)
    assert bad_csr.value.code == "Invalid-CSR"
    key = keys.generate_private_key()
    compliance = client.request_compliance_csid(
        csr_base64=keys.csr_base64(keys.build_csr(key, SUBJECT, "simulation")), otp=DEFAULT_OTP
    )
    with pytest.raises(ProviderError) as bad_request_id:
        client.request_production_csid(credentials=replace(compliance, request_id="1"))
    assert bad_request_id.value.code == "Invalid-Request-ID"
    with pytest.raises(ProviderError) as not_compliance:
        client.request_production_csid(credentials=client.Credentials("x", "y", "1"))
    assert not_compliance.value.status == 401
    unsigned = base64.b64encode(b"<Invoice/>").decode()
    checked = requests.post(
        fatoora.url + "/compliance/invoices",
        json={"invoice": unsigned, "invoiceHash": "", "uuid": ""},
        headers=HEADERS,
        auth=compliance.basic_auth,
        timeout=5,
    )
    assert checked.status_code == 400
    assert (
        requests.post(fatoora.url + "/compliance/invoices", json={}, headers=HEADERS, timeout=5).status_code
        == 401
    )


def test_faults_are_retryable_and_a_report_is_retried_once(chain, fatoora):
    document, signed = chain.next()
    fatoora.fail_next(1, status=503)
    assert chain.report(document, signed).status == client.REPORTED  # the second attempt went through
    fatoora.fail_next(2, status=429)
    with pytest.raises(ProviderError) as throttled:
        chain.report(*chain.next())
    assert (throttled.value.status, throttled.value.retryable) == (429, True)
    fatoora.fail_next(2, status=413)
    with pytest.raises(ProviderError) as too_large:
        chain.report(*chain.next())
    assert too_large.value.retryable
    fatoora.down = True
    with pytest.raises(ProviderError) as outage:
        chain.report(*chain.next())
    assert outage.value.retryable
    fatoora.down = False
    assert fatoora.error_body(500, "Something went wrong")["category"] == "HTTP-Errors"


def test_reset_forgets_everything(fatoora, chain):
    chain.report(*chain.next())
    fatoora.reset()
    assert fatoora.documents() == []
    with pytest.raises(ProviderError):
        chain.report(*chain.next())
