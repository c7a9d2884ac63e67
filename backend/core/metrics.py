"""Prometheus metrics at `/metrics` (bearer token METRICS_TOKEN; off when unset).

Two kinds of series:
- HTTP rate and latency, observed per process by `HttpMetricsMiddleware`; under gunicorn set
  PROMETHEUS_MULTIPROC_DIR (an empty directory) so every worker's figures are summed at scrape time.
- Business figures read at scrape time from the shared stores (PostgreSQL, the Redis broker), so they are
  right whatever the number of processes: bookings, payments and notifications by status, the age of the
  oldest undelivered notification, recent delivery latency, and the length of each Celery queue."""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator

import redis
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from backend.core import redis_urls
from backend.core.exceptions import error_body

logger = logging.getLogger(__name__)

HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern, method and status (the count is the request rate).",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Login codes by provider and outcome (`sent`, `failed`, `skipped`: its breaker was open), counted by the
# web process that sent them (backend/accounts/otp_delivery.py): ops see which provider carries logins.
OTP_SENDS = Counter(
    "salon_otp_sends_total",
    "Login-code send attempts by provider and outcome (sent, failed, skipped).",
    ["provider", "outcome"],
)


# Methods that get their own label; any other (clients may send any token) is "other", so a client cannot
# create series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def method_label(method: str | None) -> str:
    return method if method in KNOWN_METHODS else "other"


class HttpMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The route pattern, not the path: one series per endpoint, whatever the ids in the URL.
        route = match.route if match else "unmatched"
        HTTP_LATENCY.labels(
            route=route, method=method_label(request.method), status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


def _counts_by_status(label: str, model_label: str) -> Iterator[GaugeMetricFamily]:
    try:
        model = apps.get_model(model_label)
    except LookupError:  # an app this deployment does not install
        return
    family = GaugeMetricFamily(f"salon_{label}", f"{label.capitalize()} by status.", labels=["status"])
    for status, count in model.objects.values_list("status").annotate(n=Count("pk")).order_by():
        family.add_metric([status], count)
    yield family


# ZATCA wants simplified documents reported within 24 hours: alert well before.
EINVOICING_LATE_AFTER_HOURS = 20


def _einvoicing_unreported() -> Iterator[GaugeMetricFamily]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM einvoicing_document WHERE status = 'issued' "
            "AND issued_at < now() - make_interval(hours => %s)",
            [EINVOICING_LATE_AFTER_HOURS],
        )
        late = cursor.fetchone()[0]
    yield GaugeMetricFamily(
        "salon_einvoicing_unreported_late",
        f"E-invoicing documents issued over {EINVOICING_LATE_AFTER_HOURS} hours ago and still not reported "
        "(ZATCA's limit is 24 hours): alert on any.",
        value=float(late),
    )


class StoreCollector(Collector):
    """Reads the business figures from PostgreSQL and Redis at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from _counts_by_status("bookings", "bookings.Booking")
        yield from _counts_by_status("payments", "payments.Payment")
        yield from _counts_by_status("notifications", "notifications.Notification")
        yield from _counts_by_status("einvoicing_documents", "einvoicing.Document")
        yield from _einvoicing_unreported()
        yield from self._notification_timing()
        yield from self._queue_lengths()

    def _notification_timing(self) -> Iterator[GaugeMetricFamily]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM notifications_notification "
                "WHERE status IN ('pending', 'sending')"
            )
            oldest = cursor.fetchone()[0]
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.95) WITHIN GROUP "
                "(ORDER BY d) FROM (SELECT EXTRACT(EPOCH FROM sent_at - created_at) AS d "
                "FROM notifications_notification WHERE status = 'sent' "
                "AND sent_at > now() - interval '15 minutes') recent"
            )
            p50, p95 = cursor.fetchone()
        yield GaugeMetricFamily(
            "salon_notification_oldest_undelivered_seconds",
            "Age of the oldest pending or sending notification (0 when none).",
            value=float(oldest or 0),
        )
        latency = GaugeMetricFamily(
            "salon_notification_delivery_seconds",
            "Commit-to-sent time of notifications sent in the last 15 minutes.",
            labels=["quantile"],
        )
        latency.add_metric(["0.5"], float(p50 or 0))
        latency.add_metric(["0.95"], float(p95 or 0))
        yield latency

    def _queue_lengths(self) -> Iterator[GaugeMetricFamily]:
        from worker.celery import QUEUES, app

        family = GaugeMetricFamily(
            "salon_celery_queue_length", "Messages waiting in each queue.", labels=["queue"]
        )
        try:
            client = redis_urls.client(
                app.conf.broker_url,
                settings.REDIS_SENTINEL_MASTER,
                socket_connect_timeout=1,
                socket_timeout=1,
            )
            for queue in QUEUES:
                family.add_metric([queue], client.llen(queue))
        except redis.RedisError:
            logger.warning("metrics: broker unreachable, queue lengths left out", exc_info=True)
            return
        yield family


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):  # this process's HTTP series
            registry.register(collector)
    registry.register(StoreCollector())
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        body = error_body("not_authenticated", _("A valid metrics token is required."))
        return JsonResponse(body, status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
