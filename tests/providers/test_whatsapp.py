"""The WhatsApp Cloud API client against the fake over real HTTP: the template message Meta wants, the
classification of errors by Meta's `code`, and the template mapping's check."""

from collections.abc import Iterator

import pytest

from backend.core.http import ProviderError
from backend.fakes.whatsapp import FakeWhatsApp
from backend.notifications.templates import MESSAGES
from backend.providers import whatsapp
from backend.providers.base import RecipientUnreachable, SendResult

PHONE = "+966501234567"
TEMPLATES = {"booking_confirmed_v1": {"ar": 4, "en": 4}}


@pytest.fixture
def fake(settings) -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp(access_token="wa-token", phone_number_id="555", templates=TEMPLATES) as server:
        settings.WHATSAPP_BASE_URL = server.url + "/"
        settings.WHATSAPP_TOKEN = "wa-token"
        settings.WHATSAPP_PHONE_NUMBER_ID = "555"
        yield server


def send(**options):
    arguments = {
        "phone": PHONE,
        "template": "booking_confirmed_v1",
        "language": "ar",
        "parameters": ["Al Faris", "Haircut", "Omar", "Sunday 10:00"],
        "timeout": 5,
    }
    return whatsapp.send_template(**(arguments | options))


def raised_by(**options) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        send(**options)
    return raised.value


def test_a_template_message_is_sent_and_answers_its_wamid(fake):
    result = send()
    [message] = fake.messages()
    assert isinstance(result, SendResult) and result.provider == "whatsapp"
    assert result.message_id == message["wamid"] and result.message_id.startswith("wamid.")
    assert message == {
        "wamid": result.message_id,
        "to": "966501234567",
        "template": "booking_confirmed_v1",
        "language": "ar",
        "parameters": ["Al Faris", "Haircut", "Omar", "Sunday 10:00"],
    }
    [call] = fake.journal()
    assert call["path"] == "/v21.0/555/messages"
    assert call["headers"]["authorization"] == "Bearer wa-token"
    assert call["body"]["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": text} for text in message["parameters"]]}
    ]
    assert (call["body"]["messaging_product"], call["body"]["recipient_type"]) == ("whatsapp", "individual")


def test_the_callback_data_goes_as_biz_opaque_callback_data(fake):
    send(callback_data="notification-7:signature")
    assert fake.journal()[0]["body"]["biz_opaque_callback_data"] == "notification-7:signature"
    assert fake.messages()[0]["callback_data"] == "notification-7:signature"
    send()
    assert "biz_opaque_callback_data" not in fake.journal()[1]["body"]
    with pytest.raises(ValueError, match="512"):
        send(callback_data="x" * 513)
    assert len(fake.journal()) == 2


def test_a_template_without_parameters_has_no_components(fake):
    fake.configure(templates=None)
    send(parameters=[])
    assert "components" not in fake.journal()[0]["body"]["template"]


def test_a_number_not_on_whatsapp_is_recipient_unreachable(fake):
    fake.configure(not_on_whatsapp=[PHONE])
    error = raised_by()
    assert isinstance(error, RecipientUnreachable)
    assert (error.retryable, error.forget_address, error.code, error.status) == (False, False, "131026", 400)


@pytest.mark.parametrize(
    ("switch", "status", "code"), [({"rate_limit_next": 1}, 429, "130429"), ({"outage": True}, 503, "2")]
)
def test_rate_limits_and_outages_are_retryable(fake, switch, status, code):
    fake.configure(**switch)
    error = raised_by()
    assert (error.retryable, error.status, error.code) == (True, status, code)


@pytest.mark.parametrize("code", [131056, 131000, 2, 130429])
def test_retryable_codes_are_retryable_whatever_the_http_status(fake, code):
    fake.fail_next(1, status=400, body=fake.error_body(400, "try later", code))
    error = raised_by()
    assert (error.retryable, error.code) == (True, str(code))


@pytest.mark.parametrize("code", [132000, 132001, 131051, 131047, 190, 368])
def test_permanent_codes_are_permanent_whatever_the_http_status(fake, code):
    fake.fail_next(1, status=500, body=fake.error_body(500, "fix me", code))
    error = raised_by()
    assert not isinstance(error, RecipientUnreachable)
    assert (error.retryable, error.code) == (False, str(code))


def test_the_fakes_template_checks_come_back_permanent(fake):
    assert raised_by(language="fr").code == "132001"
    assert raised_by(parameters=["only one"]).code == "132000"


def test_a_bad_token_is_permanent(fake, settings):
    settings.WHATSAPP_TOKEN = "stale"
    error = raised_by()
    assert (error.retryable, error.status, error.code) == (False, 401, "190")


def test_unknown_codes_and_other_bodies_fall_back_to_the_http_status(fake):
    fake.fail_next(1, status=400, body=fake.error_body(400, "odd", 99999))
    assert (raised_by().retryable, fake.journal()[-1]["status"]) == (False, 400)
    fake.fail_next(1, status=502, body="<html>bad gateway</html>")
    error = raised_by()
    assert (error.retryable, error.code) == (True, "http_502")
    fake.fail_next(1, status=400, body={"error": {"code": "131026"}})  # a code sent as a string
    assert isinstance(raised_by(), RecipientUnreachable)
    fake.fail_next(1, status=400, body={"error": {"code": True}})
    assert raised_by().code == "http_400"


def test_an_answer_without_a_wamid_is_a_failure(fake):
    fake.fail_next(1, status=200, body={"messaging_product": "whatsapp", "messages": []})
    error = raised_by()
    assert (error.retryable, error.status) == (False, 200)


def test_a_timeout_is_retryable(fake):
    fake.configure(hang_seconds=2)
    fake.timeout_next(1)
    error = raised_by(timeout=0.3)
    assert (error.retryable, error.code) == (True, "timeout")


def test_missing_configuration_is_permanent(fake, settings):
    settings.WHATSAPP_PHONE_NUMBER_ID = ""
    error = raised_by()
    assert (error.retryable, error.code) == (False, "not_configured")
    assert fake.journal() == []


def test_long_parameters_are_cut_to_metas_limit(fake):
    fake.configure(templates=None)
    send(parameters=["x" * 2000])
    assert fake.messages()[0]["parameters"] == ["x" * whatsapp.MAX_PARAMETER_LENGTH]


# --- the template mapping ------------------------------------------------------------------------------
CONTEXT_KEYS = whatsapp.context_keys_by_kind(MESSAGES)
GOOD = {
    "booking_confirmed": {
        "name": "booking_confirmed_v1",
        "languages": ["ar", "en"],
        "parameters": ["salon", "service", "staff", "when"],
    },
    "refund_issued": {"name": "refund_v2", "languages": ["ar"], "parameters": ["amount", "salon"]},
}


def test_the_context_keys_are_the_placeholders_of_each_kind():
    assert CONTEXT_KEYS["booking_confirmed"] == {"salon", "service", "staff", "when"}
    assert CONTEXT_KEYS["booking_cancelled"] == {"salon", "service", "when", "refund"}
    assert set(CONTEXT_KEYS) == set(MESSAGES)


def test_a_good_mapping_has_no_problems():
    assert whatsapp.template_mapping_problems(GOOD, CONTEXT_KEYS) == []
    assert whatsapp.template_mapping_problems({}, CONTEXT_KEYS) == []


def test_every_problem_of_a_mapping_is_named():
    bad = {
        "booking_confirmd": GOOD["booking_confirmed"],
        "booking_confirmed": {"name": "", "languages": [], "parameters": ["salon", "price"], "lang": "ar"},
        "refund_issued": "refund_v2",
        "reminder_2h": {"name": "soon", "languages": ["ar", 3], "parameters": "salon"},
    }
    problems = whatsapp.template_mapping_problems(bad, CONTEXT_KEYS)
    assert len(problems) == 8
    assert problems[0].startswith("WHATSAPP_TEMPLATES['booking_confirmd']: unknown message kind (known: ")
    assert problems[1] == "WHATSAPP_TEMPLATES['booking_confirmed']: unknown field(s) lang"
    assert problems[2] == "WHATSAPP_TEMPLATES['booking_confirmed'].name must be the template's name"
    assert "languages must list" in problems[3]
    assert problems[4] == (
        "WHATSAPP_TEMPLATES['booking_confirmed']: booking_confirmed has no price"
        " (it has salon, service, staff, when)"
    )
    assert (
        problems[5]
        == "WHATSAPP_TEMPLATES['refund_issued'] must be an object with name, languages and parameters"
    )
    assert problems[6] == (
        "WHATSAPP_TEMPLATES['reminder_2h'].languages must list the language codes it was approved in"
    )
    assert "parameters must list context keys" in problems[7]
    assert whatsapp.template_mapping_problems(["x"], CONTEXT_KEYS) == [
        "WHATSAPP_TEMPLATES must be a JSON object of message kind -> template"
    ]


def test_template_for_picks_the_language_and_fills_the_parameters():
    template, language = whatsapp.template_for(GOOD, "booking_confirmed", "en")
    assert (template.name, language) == ("booking_confirmed_v1", "en")
    assert whatsapp.template_for(GOOD, "refund_issued", "en")[1] == "ar"  # the first approved language
    assert whatsapp.template_for(GOOD, "reminder_2h", "ar") is None
    context = {"salon": "Al Faris", "service": "Cut", "staff": "", "when": "10:00", "other": "x"}
    assert whatsapp.template_parameters(template, context) == ["Al Faris", "Cut", "-", "10:00"]
