"""POST /auth/otp/request/: delivery through each provider, limits kept in Redis, provider failures."""

import logging
import re
import socket

import pytest

from backend.accounts.models import OtpChallenge, User
from backend.accounts.throttles import BUDGET_ALERT_MARKER
from tests.accounts.support import ARABIC, OTHER_PHONE, PHONE, error_of, request_code, verify

pytestmark = pytest.mark.django_db


def test_a_code_goes_out_through_authentica(api_client, authentica):
    response = request_code(api_client, "0501234567")
    assert response.status_code == 202
    assert response.json() == {"expires_in": 300, "resend_after": 60}
    [call] = authentica.journal()
    assert call["path"] == "/api/v2/send-otp"
    assert call["headers"]["x-authorization"] == "authentica-key-under-test"
    code = call["body"]["otp"]
    assert call["body"] == {"method": "sms", "phone": PHONE, "template_id": 1, "otp": code}
    assert re.fullmatch(r"[0-9]{6}", code)
    challenge = OtpChallenge.objects.get(phone_number=PHONE)
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64  # only a keyed hash is kept


def test_whatsapp_through_authentica(api_client, authentica):
    assert request_code(api_client, channel="whatsapp").status_code == 202
    assert authentica.messages()[0]["method"] == "whatsapp"


def test_the_answer_does_not_tell_whether_the_number_has_an_account(api_client, authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    User.objects.create_user(PHONE)
    known = request_code(api_client, PHONE)
    unknown = request_code(api_client, OTHER_PHONE)
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


def test_sms_through_unifonic_in_the_users_language(api_client, unifonic, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    assert request_code(api_client, HTTP_ACCEPT_LANGUAGE="en").status_code == 202
    [message] = unifonic.messages()
    assert message["Recipient"] == 966501234567  # Unifonic's form: no '+'
    assert message["SenderID"] == "Salon"
    assert "login code" in message["Body"] and not ARABIC.search(message["Body"])
    code = re.search(r"[0-9]{6}", message["Body"]).group()
    User.objects.create_user(OTHER_PHONE, language="ar")
    assert request_code(api_client, OTHER_PHONE, HTTP_ACCEPT_LANGUAGE="en").status_code == 202
    assert ARABIC.search(unifonic.messages()[1]["Body"])  # a known user's saved language wins
    assert verify(api_client, PHONE, code).status_code == 200


def test_unifonic_has_no_whatsapp(api_client, unifonic):
    error_of(request_code(api_client, channel="whatsapp"), 400, "channel_unavailable")
    assert unifonic.messages() == []
    assert request_code(api_client, channel="sms").status_code == 202  # the refusal took no cool-down


def test_console_logs_the_code_for_developers(api_client, settings, caplog):
    settings.OTP_PROVIDER = "console"
    with caplog.at_level(logging.INFO, logger="backend.providers.console"):
        assert request_code(api_client).status_code == 202
    code = re.search(r"console OTP for \+966501234567 by sms: ([0-9]{6})", caplog.text).group(1)
    assert verify(api_client, PHONE, code).status_code == 200


# --- Limits ---------------------------------------------------------------------------------------
def test_resend_cool_down(api_client, authentica):
    assert request_code(api_client).status_code == 202
    response = request_code(api_client, "0501234567")  # the same number in another form
    error = error_of(response, 429, "otp_throttled")
    assert int(response["Retry-After"]) == error["retry_after"]
    assert 55 <= error["retry_after"] <= 60
    assert len(authentica.messages()) == 1
    assert request_code(api_client, OTHER_PHONE).status_code == 202  # other numbers are not held up


def test_per_phone_hourly_limit(api_client, authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_SEND_LIMIT_PER_PHONE_HOUR = 3
    for _ in range(3):
        assert request_code(api_client).status_code == 202
    response = request_code(api_client)
    error = error_of(response, 429, "otp_throttled")
    assert 3590 <= error["retry_after"] <= 3600 and response["Retry-After"] == str(error["retry_after"])
    error_of(request_code(api_client), 429, "otp_throttled")  # refusals do not extend anything
    assert len(authentica.messages()) == 3
    assert request_code(api_client, OTHER_PHONE).status_code == 202


def test_per_ip_hourly_limit(api_client, authentica, settings):
    settings.OTP_SEND_LIMIT_PER_IP_HOUR = 2
    phones = ["+966501111111", "+966502222222", "+966503333333"]
    for phone in phones[:2]:
        assert request_code(api_client, phone, REMOTE_ADDR="10.1.1.1").status_code == 202
    response = request_code(api_client, phones[2], REMOTE_ADDR="10.1.1.1")
    assert 3590 <= error_of(response, 429, "otp_throttled")["retry_after"] <= 3600
    assert "Retry-After" in response
    assert request_code(api_client, phones[2], REMOTE_ADDR="10.2.2.2").status_code == 202


def test_the_client_ip_comes_from_x_forwarded_for_behind_proxies(api_client, authentica, settings):
    settings.OTP_SEND_LIMIT_PER_IP_HOUR = 1
    settings.API_NUM_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    first = request_code(api_client, PHONE, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    second = request_code(api_client, OTHER_PHONE, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert (first.status_code, second.status_code) == (202, 202)  # two clients behind one proxy
    third = request_code(api_client, "+966503333333", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    error_of(third, 429, "otp_throttled")


def test_the_global_budget_alerts_ops_once_and_then_refuses_only_prefixes_over_their_share(
    api_client, authentica, settings, caplog
):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_SEND_BUDGET_HOUR = 4
    flood = [f"+96650111{index:04d}" for index in range(4)]  # one prefix: +966501
    for index, phone in enumerate(flood):
        assert request_code(api_client, phone, REMOTE_ADDR=f"10.{index}.0.1").status_code == 202
    with caplog.at_level(logging.ERROR, logger="backend.accounts.throttles"):
        # The budget is used up by one prefix (1 active prefix, share 4): it is refused...
        response = request_code(api_client, "+966501119999", REMOTE_ADDR="10.9.0.1")
        assert 3590 <= error_of(response, 429, "otp_throttled")["retry_after"] <= 3600
        # ...while another prefix gets its share: 4 / 2 prefixes = 2 sends.
        for index, phone in enumerate(["+966551110001", "+966551110002"]):
            assert request_code(api_client, phone, REMOTE_ADDR=f"10.8.{index}.1").status_code == 202
        error_of(request_code(api_client, "+966551110003", REMOTE_ADDR="10.8.5.1"), 429, "otp_throttled")
        # A third prefix joins: the share is now 4 / 3, so it gets 2 sends too (0 and 1 are below 1.33).
        assert request_code(api_client, "+966561110001", REMOTE_ADDR="10.7.0.1").status_code == 202
        assert request_code(api_client, "+966561110002", REMOTE_ADDR="10.7.1.1").status_code == 202
        # Never more than twice the budget in a window, whatever the prefixes.
        error_of(request_code(api_client, "+966571110001", REMOTE_ADDR="10.6.0.1"), 429, "otp_throttled")
    alerts = [record for record in caplog.records if BUDGET_ALERT_MARKER in record.getMessage()]
    assert len(alerts) == 1 and alerts[0].levelno == logging.ERROR
    assert len(authentica.messages()) == 8


# --- Provider failures: 502, nothing stored, nothing counted -----------------------------------------
def _limits_of_one(settings) -> None:
    """One send per phone, IP and hour, and the cool-down on: a counted failure would block the retry."""
    settings.OTP_SEND_LIMIT_PER_PHONE_HOUR = 1
    settings.OTP_SEND_LIMIT_PER_IP_HOUR = 1
    settings.OTP_SEND_BUDGET_HOUR = 1


def test_provider_timeout_is_502_and_not_counted(api_client, authentica, settings):
    _limits_of_one(settings)
    settings.OTP_SEND_TIMEOUT_SECONDS = 0.3
    authentica.timeout_next(1)
    error = error_of(request_code(api_client), 502, "otp_delivery_failed")
    assert "attempts_left" not in error
    assert len(authentica.journal()) == 1  # a read timeout is never retried: it may have been sent
    assert not OtpChallenge.objects.exists()
    assert request_code(api_client).status_code == 202  # cool-down and limits were given back
    assert len(authentica.journal()) == 2


def test_an_undelivered_code_never_works_and_the_previous_one_still_does(
    api_client, authentica, settings, next_codes
):
    next_codes("111111", "222222")
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_SEND_TIMEOUT_SECONDS = 0.3
    assert request_code(api_client).status_code == 202
    authentica.timeout_next(1, processed=True)  # the provider sends it, but the answer is lost
    error_of(request_code(api_client), 502, "otp_delivery_failed")
    assert authentica.last_otp(PHONE) == "222222"
    error_of(verify(api_client, PHONE, "222222"), 400, "otp_invalid")
    assert verify(api_client, PHONE, "111111").status_code == 200


@pytest.mark.parametrize("status", [500, 503, 429])
def test_provider_5xx_and_429_are_502_without_retry(api_client, authentica, settings, status):
    _limits_of_one(settings)
    authentica.fail_next(1, status=status)
    error_of(request_code(api_client), 502, "otp_delivery_failed")
    assert len(authentica.journal()) == 1
    assert request_code(api_client).status_code == 202


def test_provider_success_false_is_502(api_client, authentica, settings):
    _limits_of_one(settings)
    authentica.fail_next(1, status=200, body={"success": False, "message": "Insufficient balance"})
    error_of(request_code(api_client), 502, "otp_delivery_failed")
    assert request_code(api_client).status_code == 202


def test_wrong_api_key_is_502(api_client, authentica, settings):
    settings.AUTHENTICA_API_KEY = "wrong"
    error_of(request_code(api_client, HTTP_ACCEPT_LANGUAGE="ar"), 502, "otp_delivery_failed")
    assert ARABIC.search(request_code(api_client, HTTP_ACCEPT_LANGUAGE="ar").json()["error"]["message"])


def test_provider_down_is_retried_once_then_502(api_client, authentica, settings, caplog):
    _limits_of_one(settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.AUTHENTICA_BASE_URL = f"http://127.0.0.1:{closed_port}/api/v2"
    with caplog.at_level(logging.INFO, logger="backend.core.http"):
        error_of(request_code(api_client), 502, "otp_delivery_failed")
    attempts = [record.getMessage() for record in caplog.records if record.name == "backend.core.http"]
    assert len(attempts) == 2 and all("outcome=connect_error" in line for line in attempts)
    settings.AUTHENTICA_BASE_URL = authentica.url
    assert request_code(api_client).status_code == 202


def test_unifonic_refusal_is_502(api_client, unifonic):
    unifonic.fail_next(1, status=482, body={"success": False, "message": "Invalid", "errorCode": "ER-02"})
    error_of(request_code(api_client), 502, "otp_delivery_failed")
    assert request_code(api_client).status_code == 202
