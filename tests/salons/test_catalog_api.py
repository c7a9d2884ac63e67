"""The public catalog (no login): salons, their services and staff, in the caller's language."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.core.test_errors import assert_error_shape
from tests.support.factories import make_salon, make_service, make_staff, week

pytestmark = pytest.mark.django_db


@pytest.fixture
def salons():
    return [
        make_salon(name="Lamsa Beauty", name_ar="لمسة للتجميل", city="Riyadh"),
        make_salon(name="Al Faris Barbershop", name_ar="صالون الفارس", city="Jeddah"),
        make_salon(name="Nakheel Salon", city="riyadh"),
    ]


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [salon["name"] for salon in response.json()["results"]]


def test_salon_list_is_paginated_and_public(api_client, salons):
    response = api_client.get("/api/v1/salons/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["results"][0] == {
        "id": salons[1].id,
        "name": "Al Faris Barbershop",
        "city": "Jeddah",
        "timezone": "Asia/Riyadh",
        "rating": 0.0,
        "review_count": 0,
        "prepayment_required": False,
        "cover_url": None,
    }
    page = api_client.get("/api/v1/salons/", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]


def test_names_follow_accept_language_and_fall_back_to_name(api_client, salons):
    arabic = names(api_client.get("/api/v1/salons/", HTTP_ACCEPT_LANGUAGE="ar"))
    assert sorted(arabic) == sorted(["لمسة للتجميل", "صالون الفارس", "Nakheel Salon"])
    assert "Lamsa Beauty" in names(api_client.get("/api/v1/salons/", HTTP_ACCEPT_LANGUAGE="en"))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "faris"}, ["Al Faris Barbershop"]),
        ({"search": "لمسة"}, ["Lamsa Beauty"]),
        ({"search": "salon"}, ["Nakheel Salon"]),
        ({"city": "RIYADH"}, ["Lamsa Beauty", "Nakheel Salon"]),
        ({"city": "Riyadh", "search": "lamsa"}, ["Lamsa Beauty"]),
        ({"city": "Dammam"}, []),
    ],
)
def test_search_and_city_filters(api_client, salons, params, expected):
    assert names(api_client.get("/api/v1/salons/", params, HTTP_ACCEPT_LANGUAGE="en")) == expected


def test_salon_detail_has_business_hours_sunday_first(api_client):
    salon = make_salon(hours=week("16:00-23:00", days=[4]) + week("10:00-13:00", "16:00-23:00", days=[5, 6]))
    body = api_client.get(f"/api/v1/salons/{salon.id}/").json()
    assert body["business_hours"] == [
        {"day": "sun", "start": "10:00", "end": "13:00"},
        {"day": "sun", "start": "16:00", "end": "23:00"},
        {"day": "fri", "start": "16:00", "end": "23:00"},
        {"day": "sat", "start": "10:00", "end": "13:00"},
        {"day": "sat", "start": "16:00", "end": "23:00"},
    ]
    assert body["cancellation_policy"] == [
        {"hours_before": 24, "refund_percent": 100},
        {"hours_before": 2, "refund_percent": 50},
    ]


@pytest.mark.parametrize("path", ["", "services/", "staff/"])
def test_unknown_salons_are_404(api_client, path):
    assert_error_shape(api_client.get(f"/api/v1/salons/999999999/{path}"), 404, "not_found")


def test_only_active_services_are_listed(api_client):
    salon = make_salon()
    shown = make_service(salon, name="Haircut", name_ar="قص الشعر", duration_minutes=30, price_halalas=5000)
    make_service(salon, name="Old", is_active=False)
    make_service(make_salon(), name="Elsewhere")
    response = api_client.get(f"/api/v1/salons/{salon.id}/services/", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.json()["results"] == [
        {
            "id": shown.id,
            "name": "قص الشعر",
            "duration_minutes": 30,
            "price_halalas": 5000,
            "currency": "SAR",
            "buffer_minutes": 0,
            "processing_minutes": 0,
        }
    ]


def test_staff_list_with_service_ids_and_service_filter(api_client):
    salon = make_salon()
    haircut, beard, retired = (make_service(salon, name=name) for name in ("Haircut", "Beard", "Retired"))
    ahmed = make_staff(salon, name="Ahmed", name_ar="أحمد", services=[haircut, beard, retired])
    omar = make_staff(salon, name="Omar", services=[beard])
    make_staff(salon, name="Gone", services=[haircut], is_active=False)
    retired.is_active = False
    retired.save()
    body = api_client.get(f"/api/v1/salons/{salon.id}/staff/", HTTP_ACCEPT_LANGUAGE="ar").json()
    assert body["results"] == [
        {
            "id": ahmed.id,
            "name": "أحمد",
            "rating": 0.0,
            "review_count": 0,
            "service_ids": [haircut.id, beard.id],
            "avatar_url": None,
        },
        {
            "id": omar.id,
            "name": "Omar",
            "rating": 0.0,
            "review_count": 0,
            "service_ids": [beard.id],
            "avatar_url": None,
        },
    ]
    filtered = api_client.get(f"/api/v1/salons/{salon.id}/staff/", {"service": haircut.id}).json()
    assert [staff["id"] for staff in filtered["results"]] == [ahmed.id]


def test_bad_staff_filter_is_400(api_client):
    salon = make_salon()
    assert_error_shape(
        api_client.get(f"/api/v1/salons/{salon.id}/staff/", {"service": "x"}), 400, "validation_error"
    )


def test_staff_list_queries_do_not_grow_with_staff(api_client):
    """No N+1: the services of every staff member come in one prefetch."""

    def count_queries(staff_count: int) -> int:
        salon = make_salon()
        services = [make_service(salon) for _ in range(3)]
        for _ in range(staff_count):
            make_staff(salon, services=services)
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(f"/api/v1/salons/{salon.id}/staff/").status_code == 200
        return len(queries)

    assert count_queries(1) == count_queries(15)
