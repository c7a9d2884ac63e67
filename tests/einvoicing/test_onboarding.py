"""POST manage/salons/{id}/einvoicing/onboard/ against the fake Fatoora."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.errors import ApplicationError
from backend.einvoicing import client, keys, onboarding
from backend.einvoicing.models import Unit
from tests.einvoicing.wiring import make_paid_payment, make_tax_profile
from tests.support.factories import client_for, make_user

pytestmark = pytest.mark.django_db


def onboard_url(salon) -> str:
    return f"/api/v1/manage/salons/{salon.pk}/einvoicing/onboard/"


def test_onboarding_stores_the_key_and_secrets_encrypted(manager_client, salon, fatoora, settings):
    make_tax_profile(salon)
    response = manager_client.post(onboard_url(salon), {"otp": "123345"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "onboarded", "environment": settings.ZATCA_ENVIRONMENT}
    unit = Unit.objects.get(salon=salon)
    assert "PRIVATE KEY" not in unit.private_key
    assert isinstance(keys.decrypt_private_key(unit.private_key), ec.EllipticCurvePrivateKey)
    assert keys.decrypt_secret(unit.production_secret) and unit.production_secret != keys.decrypt_secret(
        unit.production_secret
    )
    assert keys.decrypt_secret(unit.compliance_secret) and unit.compliance_request_id
    assert unit.onboarded_at is not None
    paths = [entry["path"].removeprefix(fatoora.prefix) for entry in fatoora.journal()]
    assert paths == ["/compliance", *["/compliance/invoices"] * 3, "/production/csids"]
    again = manager_client.post(onboard_url(salon), {"otp": "123345"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "einvoicing_already_onboarded")


def test_a_wrong_otp_is_a_400_with_zatcas_messages(manager_client, salon, fatoora):
    make_tax_profile(salon)
    response = manager_client.post(onboard_url(salon), {"otp": "000000"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "einvoicing_onboarding_failed"
    assert error["messages"][0]["code"] == "Invalid-OTP"
    assert Unit.objects.get(salon=salon).status == "not_onboarded"


def test_a_failed_compliance_check_is_a_400_with_its_messages(manager_client, salon, fatoora, monkeypatch):
    make_tax_profile(salon)
    rejected = client.Result(client.REJECTED, 400, errors=[{"code": "BR-KSA-06", "message": "no"}])
    monkeypatch.setattr(client, "check_compliance", lambda **kwargs: rejected)
    response = manager_client.post(onboard_url(salon), {"otp": "123345"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["messages"] == [{"code": "BR-KSA-06", "message": "no"}]


def test_an_unreadable_certificate_is_a_400(manager_client, salon, fatoora, monkeypatch):
    make_tax_profile(salon)
    monkeypatch.setattr(
        client, "request_compliance_csid", lambda **kwargs: client.Credentials("bm90IGEgY2VydA==", "s", "1")
    )
    response = manager_client.post(onboard_url(salon), {"otp": "123345"}, format="json")
    assert response.json()["error"]["code"] == "einvoicing_onboarding_failed"


def test_without_a_tax_profile_or_an_encryption_key_nothing_is_asked_of_zatca(
    manager_client, salon, fatoora, settings
):
    response = manager_client.post(onboard_url(salon), {"otp": "123345"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "einvoicing_onboarding_failed")
    make_tax_profile(salon)
    settings.EINVOICING_KEY_ENCRYPTION_KEY = ""
    response = manager_client.post(onboard_url(salon), {"otp": "123345"}, format="json")
    assert response.status_code == 503
    assert manager_client.post(onboard_url(salon), {}, format="json").status_code == 400


def test_a_concurrent_onboarding_that_won_first_makes_this_one_a_409(salon, fatoora, monkeypatch):
    make_tax_profile(salon)
    real = client.request_production_csid

    def production_after_the_other_won(**kwargs):
        Unit.objects.filter(salon=salon).update(status="onboarded")
        return real(**kwargs)

    monkeypatch.setattr(client, "request_production_csid", production_after_the_other_won)
    with pytest.raises(ApplicationError) as raised:
        onboarding.unit_onboard(salon=salon, otp="123345")
    assert raised.value.code == "einvoicing_already_onboarded"


def test_only_the_salons_managers_may_onboard(salon, staff_user, staff, fatoora):
    make_tax_profile(salon)
    assert client_for(staff_user).post(onboard_url(salon), {"otp": "1"}, format="json").status_code == 404
    assert client_for(make_user()).post(onboard_url(salon), {"otp": "1"}, format="json").status_code == 404


def test_documents_issued_before_onboarding_are_reported_once_it_is(booking, fatoora, monkeypatch):
    make_tax_profile(booking.salon)
    make_paid_payment(booking)
    enqueued = []
    monkeypatch.setattr(onboarding, "enqueue_report", enqueued.append)
    unit = onboarding.unit_onboard(salon=booking.salon, otp="123345")
    assert enqueued == [unit.pk]
