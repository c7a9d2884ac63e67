"""JWT pairs: refresh tokens rotate and work once, logout revokes, dead accounts' tokens are refused."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.models import User
from tests.accounts.support import PHONE, bearer, error_of, login

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"


def test_refresh_rotates_and_the_old_token_is_refused(api_client, authentica):
    tokens = login(api_client, authentica)
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"} and rotated["refresh"] != tokens["refresh"]
    assert api_client.get(ME, **bearer(rotated["access"])).status_code == 200
    refused = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert refused["WWW-Authenticate"].startswith("Bearer")
    error_of(refused, 401, "token_invalid")
    assert api_client.post(REFRESH, {"refresh": rotated["refresh"]}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_give_exactly_one_pair():
    refresh = str(RefreshToken.for_user(User.objects.create_user(PHONE)))
    racers = 6
    barrier = threading.Barrier(racers)
    statuses: list[int] = []
    lock = threading.Lock()

    def race() -> None:
        try:
            barrier.wait()
            status = APIClient().post(REFRESH, {"refresh": refresh}).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] + [401] * (racers - 1)


def test_logout_revokes_the_refresh_token(api_client, authentica):
    tokens = login(api_client, authentica)
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    error_of(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_invalid")
    error_of(api_client.post(LOGOUT, {"refresh": tokens["refresh"]}), 401, "token_invalid")


@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_garbage_and_access_tokens_are_not_refresh_tokens(api_client, authentica, path):
    access = login(api_client, authentica)["access"]
    for token in ["not-a-token", access, "a.b.c"]:
        error_of(api_client.post(path, {"refresh": token}, HTTP_ACCEPT_LANGUAGE="en"), 401, "token_invalid")


def test_access_tokens_of_a_disabled_account_are_refused_at_once(api_client, authentica):
    tokens = login(api_client, authentica)
    User.objects.filter(phone_number=PHONE).update(is_active=False)
    response = api_client.get(ME, **bearer(tokens["access"]), HTTP_ACCEPT_LANGUAGE="en")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response, 401, "token_invalid")["message"] == "The token is invalid or has expired."
    error_of(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_invalid")


def test_tokens_of_a_removed_account_are_refused(api_client, authentica):
    tokens = login(api_client, authentica)
    User.objects.filter(phone_number=PHONE).delete()  # e.g. removed in the Django admin
    error_of(api_client.get(ME, **bearer(tokens["access"])), 401, "token_invalid")
    error_of(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_invalid")


def test_a_deleted_account_is_refused_even_if_left_active(api_client, authentica):
    tokens = login(api_client, authentica)
    user = User.objects.get(phone_number=PHONE)
    User.objects.filter(pk=user.pk).update(phone_number=None, deleted_at=user.date_joined)  # is_active kept
    error_of(api_client.get(ME, **bearer(tokens["access"])), 401, "token_invalid")


def test_a_bad_bearer_token_is_token_invalid_in_arabic(api_client):
    error = error_of(
        api_client.get(ME, HTTP_AUTHORIZATION="Bearer x.y.z", HTTP_ACCEPT_LANGUAGE="ar"), 401, "token_invalid"
    )
    assert error["message"] == "رمز المصادقة غير صالح أو منتهي الصلاحية."
