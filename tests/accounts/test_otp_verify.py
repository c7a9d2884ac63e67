"""POST /auth/otp/verify/: first login creates the account, codes work once, wrong codes lock."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import OtpChallenge, User
from tests.accounts.support import ARABIC, OTHER_PHONE, PHONE, bearer, error_of, login, request_code, verify

pytestmark = pytest.mark.django_db


def test_first_login_creates_the_account(api_client, authentica):
    assert request_code(api_client, HTTP_ACCEPT_LANGUAGE="en").status_code == 202
    response = verify(api_client, PHONE, authentica.last_otp(PHONE), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user", "is_new_user"}
    assert body["is_new_user"] is True
    user = User.objects.get(phone_number=PHONE)
    assert body["user"] == {
        "id": user.pk,
        "phone": PHONE,
        "name": "",
        "language": "en",  # the language the app spoke at sign-up
        "email": "",
        "roles": ["customer"],
        "marketing_opt_in": False,
        "channels": ["push", "sms"],
    }
    assert not user.has_usable_password() and user.last_login is not None
    me = api_client.get("/api/v1/me/", **bearer(body["access"]))
    assert me.json()["id"] == user.pk


def test_three_phone_formats_are_one_user(api_client, authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    first = login(api_client, authentica, "0501234567")
    second = login(api_client, authentica, "+966 50 123 4567")
    third = login(api_client, authentica, "00966501234567")
    assert first["is_new_user"] is True and second["is_new_user"] is third["is_new_user"] is False
    assert first["user"]["id"] == second["user"]["id"] == third["user"]["id"]
    assert {first["user"]["phone"], third["user"]["phone"]} == {PHONE}
    assert User.objects.count() == 1


def test_arabic_indic_digits_are_accepted(api_client, authentica):
    assert request_code(api_client, "٠٥٠١٢٣٤٥٦٧").status_code == 202
    arabic_code = authentica.last_otp(PHONE).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert verify(api_client, "٠٥٠١٢٣٤٥٦٧", arabic_code).status_code == 200


def test_wrong_codes_count_down_then_lock_even_the_right_code(api_client, authentica, next_codes):
    next_codes("123456")
    assert request_code(api_client).status_code == 202
    left = [
        error_of(verify(api_client, PHONE, "000000"), 400, "otp_invalid")["attempts_left"] for _ in range(5)
    ]
    assert left == [4, 3, 2, 1, 0]
    for _ in range(5):  # ten wrong codes in all
        error_of(verify(api_client, PHONE, "000000"), 429, "otp_locked")
    error_of(verify(api_client, PHONE, "123456"), 429, "otp_locked")
    assert not User.objects.exists()


def test_a_locked_challenge_stays_locked_after_it_expires(api_client, authentica, settings, next_codes):
    settings.OTP_MAX_ATTEMPTS = 1
    next_codes("123456")
    request_code(api_client)
    error_of(verify(api_client, PHONE, "000000"), 400, "otp_invalid")
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    error_of(verify(api_client, PHONE, "123456"), 429, "otp_locked")


def test_a_new_code_replaces_the_old_one_and_unlocks(api_client, authentica, settings, next_codes):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_MAX_ATTEMPTS = 2
    next_codes("111111", "222222")
    request_code(api_client)
    for _ in range(2):
        error_of(verify(api_client, PHONE, "000000"), 400, "otp_invalid")
    error_of(verify(api_client, PHONE, "111111"), 429, "otp_locked")
    request_code(api_client)
    assert error_of(verify(api_client, PHONE, "111111"), 400, "otp_invalid")["attempts_left"] == 1
    assert verify(api_client, PHONE, "222222").status_code == 200


def test_expired_code(api_client, authentica):
    request_code(api_client)
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    error_of(verify(api_client, PHONE, authentica.last_otp(PHONE)), 400, "otp_expired")


def test_no_code_was_requested(api_client, authentica):
    error_of(verify(api_client, PHONE, "123456"), 400, "otp_expired")
    assert not User.objects.exists()


def test_a_code_works_once(api_client, authentica):
    request_code(api_client)
    code = authentica.last_otp(PHONE)
    assert verify(api_client, PHONE, code).status_code == 200
    error_of(verify(api_client, PHONE, code), 400, "otp_expired")


def test_a_code_is_bound_to_its_number(api_client, authentica):
    request_code(api_client)
    request_code(api_client, OTHER_PHONE)
    error_of(verify(api_client, OTHER_PHONE, authentica.last_otp(PHONE)), 400, "otp_invalid")


def test_a_disabled_account_cannot_log_in(api_client, authentica):
    User.objects.create_user(PHONE, is_active=False)
    request_code(api_client)
    error_of(verify(api_client, PHONE, authentica.last_otp(PHONE)), 403, "account_disabled")


def test_errors_follow_accept_language(api_client, authentica):
    request_code(api_client)
    english = error_of(verify(api_client, PHONE, "000000", HTTP_ACCEPT_LANGUAGE="en"), 400, "otp_invalid")
    arabic = error_of(verify(api_client, PHONE, "000000", HTTP_ACCEPT_LANGUAGE="ar"), 400, "otp_invalid")
    assert not ARABIC.search(english["message"]) and ARABIC.search(arabic["message"])


@pytest.mark.django_db(transaction=True)
def test_parallel_verifies_of_one_code_give_exactly_one_login(authentica):
    client = APIClient()
    assert request_code(client).status_code == 202
    code = authentica.last_otp(PHONE)
    racers = 8
    barrier = threading.Barrier(racers)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def race() -> None:
        try:
            barrier.wait()
            response = verify(APIClient(), PHONE, code)
            body = response.json()
            with lock:
                results.append((response.status_code, body.get("error", {}).get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [(200, None)] + [(400, "otp_expired")] * (racers - 1)
    assert User.objects.count() == 1
