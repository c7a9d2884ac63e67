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


def test_an_unreachable_broker_leaves_out_only_the_queue_lengths(api_client, settings, monkeypatch, caplog):
    from worker.celery import app

    settings.METRICS_TOKEN = "s3cret"
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200
    text = response.content.decode()
    assert "salon_celery_queue_length" not in text
    assert "salon_notification_oldest_undelivered_seconds 0.0" in text  # the rest of the scrape is there
    assert "metrics: broker unreachable" in caplog.text


def test_a_model_this_deployment_does_not_install_adds_no_series():
    from backend.core.metrics import _counts_by_status

    assert list(_counts_by_status("widgets", "widgets.Widget")) == []
    [family] = _counts_by_status("bookings", "bookings.Booking")
    assert family.name == "salon_bookings"


_OTHER_PROCESS = """
from prometheus_client import Histogram
latency = Histogram("http_request_duration_seconds", "x", ["route", "method", "status"])
latency.labels(route="health/", method="GET", status="200").observe(0.02)
"""


def test_with_a_multiprocess_dir_every_processs_requests_are_summed(
    api_client, settings, monkeypatch, tmp_path
):
    """Under gunicorn each worker process writes its figures to PROMETHEUS_MULTIPROC_DIR; a scrape
    answered by any one of them sums them all."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two other processes, one request each
        subprocess.run([sys.executable, "-c", _OTHER_PROCESS], env=env, check=True, timeout=60)
    settings.METRICS_TOKEN = "s3cret"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").content.decode()
    assert 'http_request_duration_seconds_count{method="GET",route="health/",status="200"} 2.0' in text
    assert "salon_notification_oldest_undelivered_seconds" in text  # the store figures as well


def test_unknown_http_methods_share_one_label(api_client, settings):
    settings.METRICS_TOKEN = "s3cret"
    for method in ("BREW", "PROPFIND", "X" * 200):
        api_client.generic(method, "/health/")
    api_client.generic("PATCH", "/health/")
    text = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").content.decode()
    assert 'method="other",route="health/"' in text and 'method="PATCH",route="health/"' in text
    assert "BREW" not in text and "PROPFIND" not in text
