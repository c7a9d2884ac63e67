"""The Django admin's password login (issue 16: 30 wrong passwords in 6.7 s, then the right one worked).
django-axes locks a user out of it after ADMIN_LOGIN_FAILURE_LIMIT failures from one address, and from any
address while ADMIN_LOGIN_LOCKOUT_BY_USER is on, for ADMIN_LOGIN_COOLOFF_MINUTES; the API's OTP login and
JWTs are untouched by it."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.utils import timezone

from backend.accounts.models import User
from backend.core.client_ip import axes_client_ip
from tests.accounts.support import PHONE, bearer, login

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a-long-admin-passphrase"


@pytest.fixture
def admin_user():
    return User.objects.create_superuser(PHONE, password=PASSWORD)


def attempt(password: str, *, ip: str = "203.0.113.7", username: str = PHONE, **headers):
    client = Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en", **headers)
    return client.post(LOGIN, {"username": username, "password": password})


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_audits_thirty_wrong_passwords_lock_the_right_one_out(admin_user):
    statuses = [attempt(f"guess-{n}").status_code for n in range(30)]
    assert statuses[:4] == [200] * 4  # the login form again, with its error
    assert set(statuses[4:]) == {429}  # the fifth failure locks
    response = attempt(PASSWORD)
    assert response.status_code == 429 and not logged_in(response)
    assert "too many login attempts" in response.content.decode()


def test_failures_below_the_limit_are_forgotten_after_a_success(admin_user):
    for n in range(4):
        attempt(f"guess-{n}")
    assert logged_in(attempt(PASSWORD))
    for n in range(4):
        attempt(f"guess-again-{n}")
    assert logged_in(attempt(PASSWORD))


def test_the_lockout_ends_after_the_cool_off(admin_user, settings):
    for n in range(5):
        attempt(f"guess-{n}")
    assert attempt(PASSWORD).status_code == 429
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == timedelta(minutes=15)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - timedelta(seconds=1))
    assert logged_in(attempt(PASSWORD))


def test_rotating_x_forwarded_for_dodges_nothing(admin_user):
    for n in range(5):
        attempt(f"guess-{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert attempt(PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_by_user_the_lockout_holds_from_every_address(admin_user):
    for n in range(5):
        attempt(f"guess-{n}", ip=f"192.0.2.{n}")  # one guess from each of five addresses
    assert attempt(PASSWORD, ip="192.0.2.200").status_code == 429


def test_by_user_and_address_only_the_guessing_address_is_locked(admin_user, settings):
    settings.AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # ADMIN_LOGIN_LOCKOUT_BY_USER=false
    for n in range(5):
        attempt(f"guess-{n}", ip="192.0.2.1")
    assert attempt(PASSWORD, ip="192.0.2.1").status_code == 429
    assert logged_in(attempt(PASSWORD, ip="192.0.2.2"))


def test_another_users_failures_do_not_lock_an_admin(admin_user):
    for n in range(10):
        attempt(f"guess-{n}", username="+966559999999")
    assert logged_in(attempt(PASSWORD))


def test_a_locked_out_admin_still_logs_in_to_the_api_by_otp(admin_user, authentica, api_client):
    for n in range(5):
        attempt(f"guess-{n}")
    assert attempt(PASSWORD).status_code == 429
    tokens = login(api_client, authentica, PHONE)
    assert api_client.get("/api/v1/me/", **bearer(tokens["access"])).status_code == 200
    assert AccessAttempt.objects.count() == 1  # the API's logins are not counted as admin attempts


def test_the_address_is_the_sockets_not_a_header():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert axes_client_ip(request) == "203.0.113.9"
    assert axes_client_ip(RequestFactory().get("/", REMOTE_ADDR="")) == ""  # in-process: stored as null
