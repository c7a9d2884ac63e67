"""The salon's tax profile through `manage/salons/{id}/settings/` (`"tax"`)."""

import pytest
from auditlog.models import LogEntry

from backend.einvoicing.models import TaxProfile, Unit
from tests.einvoicing.wiring import TAX

pytestmark = pytest.mark.django_db


def url(salon) -> str:
    return f"/api/v1/manage/salons/{salon.pk}/settings/"


def test_tax_is_null_until_set_then_saved_with_its_unit(manager_client, salon):
    assert manager_client.get(url(salon)).json()["tax"] is None
    response = manager_client.patch(url(salon), {"tax": TAX}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["tax"] == {**TAX, "vat_rate_percent": 15.0}
    assert TaxProfile.objects.get(salon=salon).vat_number == TAX["vat_number"]
    assert Unit.objects.filter(salon=salon, status="not_onboarded").exists()
    assert LogEntry.objects.get_for_model(TaxProfile).exists()


def test_a_partial_tax_change_is_merged_into_the_saved_profile(manager_client, salon):
    manager_client.patch(url(salon), {"tax": TAX}, format="json")
    change = {"tax": {"legal_name": "Lamsa Co", "address": {"city": "Jeddah"}, "vat_rate_percent": "5.5"}}
    response = manager_client.patch(url(salon), change, format="json")
    assert response.status_code == 200, response.json()
    tax = response.json()["tax"]
    assert (tax["legal_name"], tax["address"]["city"], tax["address"]["street"]) == (
        "Lamsa Co",
        "Jeddah",
        "King Fahd Road",
    )
    assert tax["vat_rate_percent"] == 5.5


def test_an_incomplete_first_profile_is_refused_with_the_fields(manager_client, salon):
    response = manager_client.patch(url(salon), {"tax": {"legal_name": "Lamsa"}}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "vat_number" in str(fields) and "address" in str(fields)
    assert not TaxProfile.objects.exists()


def test_a_bad_vat_number_is_a_400_and_changes_nothing(manager_client, salon):
    response = manager_client.patch(
        url(salon), {"name": "Other", "tax": {**TAX, "vat_number": "123456789012345"}}, format="json"
    )
    assert response.status_code == 400
    salon.refresh_from_db()
    assert salon.name == "Lamsa" and not TaxProfile.objects.exists()


def test_other_settings_leave_the_tax_profile_alone(manager_client, salon):
    manager_client.patch(url(salon), {"tax": TAX}, format="json")
    response = manager_client.patch(url(salon), {"city": "Jeddah"}, format="json")
    assert response.json()["tax"]["legal_name"] == TAX["legal_name"]
