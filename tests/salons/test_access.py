"""Who may call the management and admin endpoints. A salon's managers and platform admins may manage it;
another salon's manager, staff and customers get 404 on every endpoint, as for a salon that does not exist;
nobody logged in gets 401."""

from datetime import datetime

import pytest
from django.urls import get_resolver

from backend.salons.models import Closure, Salon, SpecialHours, TimeOff
from tests.core.test_errors import assert_error_shape
from tests.support.factories import client_for, make_salon, make_service, make_staff, make_user

pytestmark = pytest.mark.django_db

WEEK = [{"day": "sun", "start": "09:00", "end": "13:00"}]
SPAN = {
    "start_date": "2027-03-01",
    "end_date": "2027-03-29",
    "hours": [{"day": "sun", "start": "21:00", "end": "03:00"}],
}
TIME_OFF = {"start": "2027-01-10T12:00:00+03:00", "end": "2027-01-10T14:00:00+03:00"}
# Every management endpoint: method, path under /manage/salons/{salon}/, a valid body, success status.
ENDPOINTS = [
    ("get", "settings/", None, 200),
    ("patch", "settings/", {"city": "Dammam"}, 200),
    ("get", "business-hours/", None, 200),
    ("put", "business-hours/", WEEK, 200),
    ("get", "services/", None, 200),
    ("post", "services/", {"name": "Shave", "duration_minutes": 30, "price_halalas": 3000}, 201),
    ("get", "services/{service}/", None, 200),
    ("patch", "services/{service}/", {"price_halalas": 100}, 200),
    ("delete", "services/{service}/", None, 204),
    ("get", "staff/", None, 200),
    ("post", "staff/", {"name": "Sara"}, 201),
    ("get", "staff/{staff}/", None, 200),
    ("patch", "staff/{staff}/", {"name": "Sara"}, 200),
    ("delete", "staff/{staff}/", None, 204),
    ("post", "staff/{staff}/cancel-upcoming/", {"reason": "left"}, 200),
    ("get", "staff/{staff}/working-hours/", None, 200),
    ("put", "staff/{staff}/working-hours/", WEEK, 200),
    ("get", "staff/{staff}/time-off/", None, 200),
    ("post", "staff/{staff}/time-off/", TIME_OFF, 201),
    ("delete", "staff/{staff}/time-off/{time_off}/", None, 204),
    ("get", "closures/", None, 200),
    ("post", "closures/", {"date": "2027-04-01"}, 201),
    ("delete", "closures/{closure}/", None, 204),
    ("get", "special-hours/", None, 200),
    ("post", "special-hours/", SPAN, 201),
    ("delete", "special-hours/{special_hours}/", None, 204),
    ("get", "staff/{staff}/special-hours/", None, 200),
    ("post", "staff/{staff}/special-hours/", SPAN, 201),
    ("delete", "staff/{staff}/special-hours/{staff_special_hours}/", None, 204),
    ("get", "bookings/", None, 200),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _, _ in ENDPOINTS]


@pytest.fixture
def target():
    """A salon with one of everything, and its manager."""
    manager = make_user()
    salon = make_salon(managers=[manager])
    service = make_service(salon)
    staff = make_staff(salon, services=[service])
    time_off = TimeOff.objects.create(
        staff=staff,
        start=datetime.fromisoformat(TIME_OFF["start"]),
        end=datetime.fromisoformat(TIME_OFF["end"]),
    )
    closure = Closure.objects.create(salon=salon, date="2027-05-01")
    span = SpecialHours.objects.create(salon=salon, start_date="2027-06-01", end_date="2027-06-02")
    staff_span = SpecialHours.objects.create(
        salon=salon, staff=staff, start_date="2027-06-01", end_date="2027-06-02"
    )
    ids = {
        "service": service.id,
        "staff": staff.id,
        "time_off": time_off.id,
        "closure": closure.id,
        "special_hours": span.id,
        "staff_special_hours": staff_span.id,
    }
    return salon, manager, ids


def call(client, method: str, salon_id: int, path: str, ids: dict, body):
    return getattr(client, method)(
        f"/api/v1/manage/salons/{salon_id}/{path.format(**ids)}", body, format="json"
    )


@pytest.mark.parametrize(("method", "path", "body", "success"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_the_salons_manager_may(target, method, path, body, success):
    salon, manager, ids = target
    response = call(client_for(manager), method, salon.id, path, ids, body)
    assert response.status_code == success, response.content


@pytest.mark.parametrize(("method", "path", "body", "success"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_platform_admin_may(target, method, path, body, success):
    salon, _, ids = target
    assert (
        call(client_for(make_user(is_superuser=True)), method, salon.id, path, ids, body).status_code
        == success
    )


@pytest.mark.parametrize("who", ["other_manager", "staff_member", "customer"])
@pytest.mark.parametrize(("method", "path", "body", "success"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_anyone_else_gets_404_and_changes_nothing(target, who, method, path, body, success):
    salon, _, ids = target
    outsider = make_user()
    if who == "other_manager":
        make_salon(managers=[outsider])
    if who == "staff_member":
        make_staff(salon, user=outsider)  # staff of this very salon, not a manager
    before = Salon.objects.get(id=salon.id).updated_at
    assert_error_shape(call(client_for(outsider), method, salon.id, path, ids, body), 404, "not_found")
    assert Salon.objects.get(id=salon.id).updated_at == before


@pytest.mark.parametrize(("method", "path", "body", "success"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_manager_gets_the_same_404_for_an_unknown_salon(target, method, path, body, success):
    _, manager, ids = target
    assert_error_shape(call(client_for(manager), method, 999999999, path, ids, body), 404, "not_found")


@pytest.mark.parametrize(("method", "path", "body", "success"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_nobody_logged_in_gets_401(target, method, path, body, success):
    salon, _, ids = target
    assert_error_shape(call(client_for(None), method, salon.id, path, ids, body), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("method", "path", "body", "success"),
    [endpoint for endpoint in ENDPOINTS if "{" in endpoint[1]],
    ids=[endpoint_id for endpoint_id in ENDPOINT_IDS if "{" in endpoint_id],
)
def test_another_salons_rows_are_404_under_ones_own_salon(target, method, path, body, success):
    _, manager, ids = target
    own = make_salon(managers=[manager])
    assert_error_shape(call(client_for(manager), method, own.id, path, ids, body), 404, "not_found")


def test_every_management_route_is_covered():
    routes = {  # bookings routes its own endpoints under the salon's paths (the salon's bookings)
        str(pattern.pattern)
        for urlconf in ("backend.salons.urls", "backend.bookings.urls")
        for pattern in get_resolver(urlconf).url_patterns
        if str(pattern.pattern).startswith("manage/salons/<int:salon_id>/")
    }
    covered = {
        "manage/salons/<int:salon_id>/"
        + path.replace("{service}", "<int:service_id>")
        .replace("{staff}", "<int:staff_id>")
        .replace("{time_off}", "<int:time_off_id>")
        .replace("{closure}", "<int:closure_id>")
        .replace("{staff_special_hours}", "<int:special_hours_id>")
        .replace("{special_hours}", "<int:special_hours_id>")
        for _, path, _, _ in ENDPOINTS
    }
    assert routes == covered


# --- Platform administration ----------------------------------------------------------------------------
def test_only_platform_admins_create_salons(target):
    _, manager, _ = target
    body = {"name": "New", "city": "Riyadh", "manager_phone": "0551234567"}
    assert_error_shape(client_for(manager).post("/api/v1/admin/salons/", body), 403, "permission_denied")
    assert_error_shape(client_for(make_user()).post("/api/v1/admin/salons/", body), 403, "permission_denied")
    assert_error_shape(client_for(None).post("/api/v1/admin/salons/", body), 401, "not_authenticated")
    assert not Salon.objects.filter(name="New").exists()
