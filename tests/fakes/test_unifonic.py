"""Fake Unifonic through real HTTP: form-encoded send, AppSid, number rules, error codes."""

from collections.abc import Iterator

import pytest
import requests

from backend.fakes import FakeUnifonic

APP_SID = "appsid-under-test"


@pytest.fixture
def fake() -> Iterator[FakeUnifonic]:
    with FakeUnifonic(app_sid=APP_SID) as server:
        yield server


def send(fake: FakeUnifonic, **fields: str) -> requests.Response:
    form = {"AppSid": APP_SID, "SenderID": "Salon", "Recipient": "966501234567", "Body": "Hello"} | fields
    form = {key: value for key, value in form.items() if value is not None}
    return requests.post(
        f"{fake.url}/rest/SMS/messages", data=form, headers={"Accept": "application/json"}, timeout=5
    )


def test_send_answers_unifonics_success_body(fake: FakeUnifonic) -> None:
    sent = send(fake, CorrelationID="notification-42")
    assert sent.status_code == 200
    body = sent.json()
    assert (body["success"], body["errorCode"]) == (True, "ER-00")
    data = body["data"]
    assert isinstance(data["MessageID"], int)
    assert data["CorrelationID"] == "notification-42"
    assert (data["Status"], data["NumberOfUnits"], data["Cost"]) == ("Sent", 1, 0.0)
    assert data["Recipient"] == 966501234567
    assert {"Balance", "DateCreated"} <= data.keys()


def test_messages_are_recorded_and_listed_over_http(fake: FakeUnifonic) -> None:
    first = send(fake).json()["data"]["MessageID"]
    second = send(fake, SenderID=None, Body="مرحبا " * 20).json()["data"]
    assert second["MessageID"] != first
    assert second["NumberOfUnits"] == 2  # 120 Arabic characters: two UCS-2 parts
    listed = requests.get(f"{fake.root_url}/_control/messages", timeout=5).json()
    assert [m["MessageID"] for m in listed] == [first, second["MessageID"]]
    assert listed[0]["Body"] == "Hello"
    assert listed[1]["SenderID"] == "FAKE"  # Unifonic's account default when SenderID is omitted


def test_fields_may_come_as_json_or_in_the_query_string(fake: FakeUnifonic) -> None:
    url = f"{fake.url}/rest/SMS/messages"
    as_json = requests.post(url, json={"AppSid": APP_SID, "Recipient": 966501234567, "Body": "x"}, timeout=5)
    assert as_json.json()["success"] is True
    in_query = requests.post(
        url, params={"AppSid": APP_SID, "Recipient": "966501234567", "Body": "x"}, timeout=5
    )
    assert in_query.json()["success"] is True


@pytest.mark.parametrize("app_sid", [None, "", "wrong"])
def test_a_missing_or_wrong_app_sid_answers_402(fake: FakeUnifonic, app_sid: str | None) -> None:
    refused = send(fake, AppSid=app_sid)
    assert refused.status_code == 402
    body = refused.json()
    assert (body["success"], body["errorCode"], body["data"]) == (False, "ER-01", {})
    assert fake.messages() == []


@pytest.mark.parametrize(
    ("recipient", "code", "message"),
    [
        ("+966501234567", "ER-02", "Invalid destination number"),
        ("00966501234567", "ER-02", "Invalid destination number"),
        ("0501234567", "ER-02", "Invalid destination number"),
        ("96650 123", "ER-02", "Invalid destination number"),
        ("", "ER-02", "Invalid destination number"),
        ("96650123", "ER-04", "Dest num is too short"),
        ("9665012345678901", "ER-03", "Dest num is too long"),
    ],
)
def test_bad_numbers_answer_482(fake: FakeUnifonic, recipient: str, code: str, message: str) -> None:
    refused = send(fake, Recipient=recipient)
    assert refused.status_code == 482
    assert refused.json() == {"success": False, "message": message, "errorCode": code, "data": {}}


def test_an_empty_body_is_refused(fake: FakeUnifonic) -> None:
    refused = send(fake, Body="  ")
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "ER-06"


def test_a_repeated_correlation_id_is_refused_as_duplicate_and_not_sent_again():
    with FakeUnifonic() as fake:
        fields = {"AppSid": fake.app_sid, "Recipient": "966501234567", "Body": "hi", "CorrelationID": "42"}
        first = requests.post(f"{fake.url}/rest/SMS/messages", data=fields, timeout=5)
        again = requests.post(f"{fake.url}/rest/SMS/messages", data=fields, timeout=5)
        other = requests.post(
            f"{fake.url}/rest/SMS/messages", data={**fields, "CorrelationID": "43"}, timeout=5
        )
        assert first.status_code == 200 and other.status_code == 200
        assert again.status_code == 409
        assert again.json() == {
            "success": False,
            "message": "This message is duplicate",
            "errorCode": "ER-09",
            "data": {},
        }
        assert [message["CorrelationID"] for message in fake.messages()] == ["42", "43"]
        fake.reset()
        assert requests.post(f"{fake.url}/rest/SMS/messages", data=fields, timeout=5).status_code == 200
