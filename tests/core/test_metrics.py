import pytest

from backend.notifications.models import Notification
from tests.support.factories import make_booking, make_salon, make_service, make_staff, next_weekday

pytestmark = pytest.mark.django_db


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(api_client, settings):
    settings.METRICS_TOKEN = ""
    assert api_client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret"
    refused = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"


def test_metrics_expose_the_named_series(api_client, settings):
    from datetime import datetime, time

    settings.METRICS_TOKEN = "s3cret"
    service = make_service(make_salon())
    make_booking(
        service=service,
        staff=make_staff(service.salon, services=[service]),
        start=datetime.combine(next_weekday(0), time(10), tzinfo=service.salon.tz),
    )
    Notification.objects.create(phone="+966501234567", kind="booking_confirmed", body="x", dedupe_key="k")
    api_client.get("/health/")
    text = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").content.decode()
    assert 'http_request_duration_seconds_count{method="GET",route="health/",status="200"}' in text
    assert 'salon_bookings{status="confirmed"} 1.0' in text
    assert 'salon_notifications{status="pending"} 1.0' in text
    assert "salon_notification_oldest_undelivered_seconds" in text
    assert 'salon_notification_delivery_seconds{quantile="0.95"}' in text
    for queue in ("default", "notifications", "payments"):
        assert f'salon_celery_queue_length{{queue="{queue}"}}' in text
