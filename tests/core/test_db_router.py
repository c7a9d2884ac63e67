"""Where reads go (backend/core/db_router.py): a table of the router's decisions, the pin window after a
write, and what the router lets migrations and writes do. The booking that a lagging replica must not let
through is tests/bookings/test_replica_lag.py."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.core.db_router import (
    PIN_COOKIE,
    ReplicaPinMiddleware,
    ReplicaReadsMixin,
    ReplicaRouter,
    is_pinned,
    pin,
    read_alias,
)
from backend.salons.models import Salon
from tests.support.waiting import wait_until

REPLICA = "lagging_copy"


class AliasView(ReplicaReadsMixin, APIView):
    """Answers the alias its handler's reads would go to, inside a transaction when asked."""

    permission_classes = [AllowAny]

    def get(self, request):
        if request.query_params.get("atomic"):
            with transaction.atomic():
                return Response({"alias": read_alias()})
        return Response({"alias": read_alias()})

    post = get


def _alias(method="get", *, user=None, cookie=False, atomic=False) -> str:
    request = getattr(APIRequestFactory(), method)("/", {"atomic": "1"} if atomic else {})
    if cookie:
        request.COOKIES[PIN_COOKIE] = "1"
    if user is not None:
        force_authenticate(request, user=user)
    alias = AliasView.as_view()(request).data["alias"]
    assert read_alias() == "default"  # the choice never outlives its request
    return alias


# An unsaved user with a primary key: enough for the pin's cache key, no database needed.
USER = User(pk=424242)


@pytest.mark.parametrize(
    ("case", "replicas", "request_kwargs", "pinned_in_cache", "expected"),
    [
        ("no replica configured", [], {}, False, "default"),
        ("anonymous read", [REPLICA], {}, False, REPLICA),
        ("logged-in read, no recent write", [REPLICA], {"user": USER}, False, REPLICA),
        ("unsafe method", [REPLICA], {"method": "post"}, False, "default"),
        ("pinned by cookie", [REPLICA], {"cookie": True}, False, "default"),
        ("pinned by the user's cache key", [REPLICA], {"user": USER}, True, "default"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_the_router_sends_a_read_where_the_table_says(
    case, replicas, request_kwargs, pinned_in_cache, expected
):
    if pinned_in_cache:
        cache.set(f"db-pin:{USER.pk}", 1, timeout=60)
    with override_settings(DATABASE_REPLICAS=replicas):
        assert _alias(**request_kwargs) == expected, case


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_goes_to_the_primary():
    with override_settings(DATABASE_REPLICAS=[REPLICA]):
        assert _alias() == REPLICA
        assert _alias(atomic=True) == "default"


def test_when_the_cache_cannot_say_whether_the_user_wrote_the_read_goes_to_the_primary():
    request = RequestFactory().get("/")
    request.user = USER
    with mock.patch.object(cache, "get", side_effect=ConnectionError("cache down")):
        assert is_pinned(request) is True


def test_writes_and_migrations_stay_off_the_replicas():
    router = ReplicaRouter()
    with override_settings(DATABASE_REPLICAS=[REPLICA]):
        assert router.db_for_write(Salon) == "default"
        assert router.db_for_read(Salon) == "default"  # no view opted in
        assert router.allow_migrate("default", "salons") is True
        assert router.allow_migrate(REPLICA, "salons") is False
        assert router.allow_relation(Salon(), Salon()) is True


def _write(user=None, method="post") -> HttpResponse:
    request = getattr(RequestFactory(), method)("/")
    request.user = user
    return ReplicaPinMiddleware(lambda _request: HttpResponse(status=201))(request)


def _later_read(user) -> bool:
    request = RequestFactory().get("/")  # an app client: it sends no cookie back
    request.user = user
    return is_pinned(request)


@override_settings(DATABASE_REPLICAS=[REPLICA], REPLICA_PIN_SECONDS=1)
def test_a_write_pins_its_user_to_the_primary_for_the_window_then_lets_go():
    response = _write(USER)
    assert response.cookies[PIN_COOKIE]["max-age"] == 1 and response.cookies[PIN_COOKIE]["secure"]
    assert _later_read(USER) is True
    wait_until(lambda: not _later_read(USER), timeout=10)  # the cache key expires with the window


@override_settings(DATABASE_REPLICAS=[REPLICA])
def test_an_anonymous_write_pins_by_cookie_and_a_read_pins_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert PIN_COOKIE in _write(AnonymousUser()).cookies
    assert PIN_COOKIE not in _write(USER, method="get").cookies


@override_settings(DATABASE_REPLICAS=[])
def test_without_replicas_nothing_is_pinned():
    assert PIN_COOKIE not in _write(USER).cookies
    assert _later_read(USER) is False


@override_settings(DATABASE_REPLICAS=[REPLICA])
def test_a_cache_outage_does_not_fail_the_write_it_follows(caplog):
    response = HttpResponse(status=201)
    request = RequestFactory().post("/")
    request.user = USER
    with mock.patch.object(cache, "set", side_effect=ConnectionError("cache down")):
        pin(request, response)
    assert response.status_code == 201 and PIN_COOKIE in response.cookies
    assert "could not pin" in caplog.text
