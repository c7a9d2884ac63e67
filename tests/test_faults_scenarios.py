"""The `channels` and `invoices` scenarios of `make faults` (scripts/faults_channels.py,
scripts/faults_invoices.py): their counting, plans and settings; and, marked slow, a real run of each with
a short outage (the full runs, with the 3-minute outage, are `make faults`'s, recorded in docs/faults.md)."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "scripts") not in sys.path:  # the scripts import each other from their own directory
    sys.path.insert(0, str(ROOT / "scripts"))

import faults  # noqa: E402
import faults_channels as channels  # noqa: E402
import faults_invoices as invoices  # noqa: E402

PUSH, WHATSAPP, SMS = channels.PUSH, channels.WHATSAPP, channels.SMS


# --- channels: who is reached on what -----------------------------------------------------------------


def test_the_profiles_spread_messages_over_the_three_channels_and_some_fall_through():
    expected = [profile.expected for profile in channels.PROFILES]
    assert (expected.count(PUSH), expected.count(WHATSAPP), expected.count(SMS)) == (4, 3, 3)
    assert sum(profile.falls_through for profile in channels.PROFILES) == 3
    for profile in channels.PROFILES:
        # The channel that must deliver is one the recipient allows, and it is the first unless the
        # channels before it cannot reach them (a stale device, a number not on WhatsApp).
        assert profile.expected in (*profile.channels, SMS)
        before = (*profile.channels, SMS)[: (*profile.channels, SMS).index(profile.expected)]
        for skipped in before:
            assert (skipped == PUSH and profile.device == "stale") or (
                skipped == WHATSAPP and not profile.on_whatsapp
            )
    assert channels.profile_for(13) == channels.PROFILES[3]


def _row(expected, *, status="sent", channel=None, first=None):
    return channels.OutboxRow(status, channel or expected, first or expected, expected)


def test_every_row_received_once_on_its_channel_is_neither_lost_nor_duplicated():
    rows = {1: _row(PUSH), 2: _row(WHATSAPP), 3: _row(SMS, first=PUSH)}
    report = channels.count_channels(
        rows, [channels.Receipt(PUSH, 1), channels.Receipt(WHATSAPP, 2), channels.Receipt(SMS, 3)]
    )
    assert report.lost == report.duplicated == report.unknown == report.sms_also == 0
    assert report.by_channel[PUSH].received == report.by_channel[PUSH].rows == 1
    assert (report.expected_fallthrough, report.fallthrough_books, report.fallthrough_received) == (1, 1, 1)
    assert all(row.ok for row in channels.channel_rows(faults.Plan(notifications=3), report))


def test_a_push_that_also_went_out_by_sms_is_a_duplicate_on_the_wrong_channel():
    rows = {1: _row(PUSH), 2: _row(PUSH)}
    report = channels.count_channels(
        rows, [channels.Receipt(PUSH, 1), channels.Receipt(SMS, 1), channels.Receipt(PUSH, 2)]
    )
    push = report.by_channel[PUSH]
    assert (push.duplicated, push.extra, push.wrong_channel) == (1, 1, 1)
    assert (push.seen_twice, push.seen_extra, push.replaced) == (1, 1, 0)
    assert report.sms_also == 1 and report.duplicated_rows == {1}
    verdicts = {row.id: row.ok for row in channels.channel_rows(faults.Plan(notifications=2), report)}
    assert verdicts["C2"] is False and verdicts["C6"] is False


def test_a_push_resent_with_its_collapse_id_is_replaced_not_seen_twice_but_still_a_raw_resend():
    rows = {1: _row(PUSH), 2: _row(PUSH), 3: _row(PUSH)}
    receipts = [
        channels.Receipt(PUSH, 1, "notification-1"),
        channels.Receipt(PUSH, 1, "notification-1"),  # the resend after a kill: replaces the first
        channels.Receipt(PUSH, 2, "notification-2"),
        channels.Receipt(PUSH, 2, "other"),  # another collapse id: a second notification on the phone
        channels.Receipt(PUSH, 3),
    ]
    report = channels.count_channels(rows, receipts)
    push = report.by_channel[PUSH]
    assert (push.duplicated, push.extra) == (2, 2)  # raw provider resends, reported as they are
    assert (push.seen_twice, push.seen_extra, push.replaced) == (1, 1, 1)
    assert report.seen_twice == 1 and report.duplicated_rows == {1, 2}
    [c2] = [row for row in channels.channel_rows(faults.Plan(notifications=3), report) if row.id == "C2"]
    assert c2.measured == "3 / 5; 0; 1 (1); 2 (2), 1 replaced; 0; 0" and c2.ok is False
    replaced_only = channels.count_channels(rows, [*receipts[:3], channels.Receipt(PUSH, 3)])
    [c2] = [r for r in channels.channel_rows(faults.Plan(notifications=3), replaced_only) if r.id == "C2"]
    assert c2.measured == "3 / 4; 0; 0 (0); 1 (1), 1 replaced; 0; 0" and c2.ok is True


def test_a_whatsapp_resend_and_a_push_without_collapse_id_are_seen_twice():
    rows = {1: _row(WHATSAPP), 2: _row(PUSH)}
    receipts = [channels.Receipt(WHATSAPP, 1)] * 2 + [channels.Receipt(PUSH, 2)] * 2
    report = channels.count_channels(rows, receipts)
    assert report.by_channel[WHATSAPP].seen_twice == report.by_channel[PUSH].seen_twice == 1
    assert report.by_channel[WHATSAPP].replaced == report.by_channel[PUSH].replaced == 0


def test_a_row_no_fake_received_is_lost_whatever_our_books_say_and_unknown_messages_are_counted():
    rows = {1: _row(WHATSAPP), 2: _row(WHATSAPP, status="failed")}
    report = channels.count_channels(rows, [channels.Receipt(WHATSAPP, None), channels.Receipt(PUSH, 99)])
    whatsapp = report.by_channel[WHATSAPP]
    assert whatsapp.lost == 2 and whatsapp.books_disagree == 1
    assert report.unknown == 2 and report.failed == 1


def test_a_row_sent_on_another_channel_than_its_profile_disagrees_and_is_counted_as_fallthrough():
    # Its profile expects push; it went out by SMS (a push failure taken for permanent).
    rows = {1: _row(PUSH, channel=SMS)}
    report = channels.count_channels(rows, [channels.Receipt(SMS, 1)])
    assert report.by_channel[PUSH].wrong_channel == 1 and report.by_channel[PUSH].books_disagree == 1
    assert (report.expected_fallthrough, report.fallthrough_books, report.fallthrough_received) == (0, 1, 1)


def test_receipts_name_their_row_by_push_data_whatsapp_parameters_and_sms_correlation_id():
    key = channels.whatsapp_key("+966560000005", "reminder_24h_v1", ["Salon", "Cut", "Sara", "Sat #5"])
    receipts = channels.receipts_from(
        [
            {"name": "m/1", "message": {"data": {"notification_id": "7"}}, "android_tag": "notification-7"},
            {"message": {}, "apns_collapse_id": "notification-8"},
            {"message": {"data": {"notification_id": "7"}}, "android_tag": None, "apns_collapse_id": None},
        ],
        [
            {
                "to": "966560000005",
                "template": "reminder_24h_v1",
                "parameters": ["Salon", "Cut", "Sara", "Sat #5"],
            },
            {"to": "966560000005", "template": "reminder_24h_v1", "parameters": ["other"]},
        ],
        [{"CorrelationID": "9"}, {"CorrelationID": None}],
        {key: 8},
    )
    assert receipts == [
        channels.Receipt(PUSH, 7, "notification-7"),
        channels.Receipt(PUSH, None, "notification-8"),
        channels.Receipt(PUSH, 7),
        channels.Receipt(WHATSAPP, 8),
        channels.Receipt(WHATSAPP, None),
        channels.Receipt(SMS, 9),
        channels.Receipt(SMS, None),
    ]


def test_provider_calls_are_summed_per_fake_telling_the_token_endpoint_apart():
    lines = channels.provider_calls_by_channel(
        {
            "fcm": [
                {"path": "/token", "fault": "down", "status": None},
                {"path": "/v1/projects/p/messages:send", "fault": None, "status": 503},
                {"path": "/v1/projects/p/messages:send", "fault": None, "status": 200},
            ]
        }
    )
    assert lines == ["  fcm: token: connection closed x 1, send: 503 x 1, send: 200 x 1"]


def test_whatsapp_webhooks_are_summed_and_statuses_never_answered_200_counted():
    def post(wamid, status, answer, error=None):
        value = {"statuses": [{"id": wamid, "status": status}]}
        return {"payload": {"entry": [{"changes": [{"value": value}]}]}, "status": answer, "error": error}

    line = channels.webhook_line(
        [
            post("w1", "sent", 200),
            post("w2", "sent", 503),
            post("w2", "sent", 200),  # retried, then answered
            post("w3", "sent", None, "TimeoutError"),
            post("w3", "delivered", 503),
        ]
    )
    assert line == (
        "WhatsApp status webhooks: 4 statuses in 5 posts, answered 200 x 2, 503 x 2, TimeoutError x 1; "
        "statuses never answered 200: 2"
    )


# --- invoices: every document once, in order ----------------------------------------------------------


def _document(unit, counter, *, status="reported"):
    return invoices.IssuedDocument(unit, counter, f"h{unit}-{counter}", f"h{unit}-{counter - 1}", status)


def _calls(*items):
    return [(uuid, status, None) for uuid, status in items]


def test_documents_reported_once_each_in_counter_order_per_unit_pass():
    documents = {"a1": _document(1, 1), "a2": _document(1, 2), "b1": _document(2, 1)}
    calls = [("a1", None, "down"), ("a1", 503, "fail"), *_calls(("a1", 200), ("b1", 200), ("a2", 202))]
    counts = invoices.count_reports(documents, calls)
    assert (counts.accepted, counts.lost, counts.duplicated, counts.out_of_order) == (3, 0, 0, 0)
    assert counts.chain_breaks == counts.unknown == counts.rejected_calls == 0


def test_a_resend_refused_as_already_reported_is_no_duplicate_but_a_second_acceptance_is():
    documents = {"a1": _document(1, 1)}
    assert invoices.count_reports(documents, _calls(("a1", 200), ("a1", 409))).duplicated == 0
    counts = invoices.count_reports(documents, _calls(("a1", 200), ("a1", 200)))
    assert counts.duplicated == 1 and counts.refused_again == 0
    assert invoices.count_reports(documents, _calls(("a1", 200), ("a1", 409))).refused_again == 1


def test_a_document_accepted_before_its_predecessor_is_out_of_order_and_one_never_accepted_lost():
    documents = {"a1": _document(1, 1), "a2": _document(1, 2), "a3": _document(1, 3, status="issued")}
    counts = invoices.count_reports(documents, _calls(("a2", 200), ("a1", 200), ("x", 200), ("a3", 400)))
    assert (
        counts.out_of_order == 2 and counts.lost == 1 and counts.unknown == 1 and counts.rejected_calls == 1
    )
    assert counts.strays == ("unit 1: [2, 1]",) and counts.refusals == ((1, 3),)
    rows = {
        row.id: row.ok for row in invoices.invoice_rows(invoices.InvoicePlan(payments=3), _pay(3), counts)
    }
    assert rows["I3"] is False and rows["I4"] is False and rows["I5"] is False and rows["I6"] is False


def test_a_gap_or_a_wrong_pih_in_our_chain_is_a_break():
    gap = {"a1": _document(1, 1), "a3": _document(1, 3)}
    assert invoices.count_reports(gap, []).chain_breaks == 1
    wrong = {"a1": _document(1, 1), "a2": invoices.IssuedDocument(1, 2, "h1-2", "not-h1-1", "reported")}
    assert invoices.count_reports(wrong, []).chain_breaks == 1


def _pay(n, **changes):
    fields = {"bookings": n, "paid": n, "refused": 0, "payments": n, "without_invoice": 0}
    return invoices.PaymentChecks(**{**fields, "invoices_without_payment": 0, **changes})


def test_payments_without_their_invoice_miss():
    counts = invoices.count_reports({"a1": _document(1, 1)}, _calls(("a1", 200)))
    plan = invoices.InvoicePlan(payments=2)
    rows = {row.id: row.ok for row in invoices.invoice_rows(plan, _pay(2, without_invoice=1), counts)}
    assert rows["I2"] is False and rows["I1"] is True and rows["I4"] is True


def test_reporting_calls_are_read_from_the_fakes_journal():
    journal = [
        {"path": "/e-invoicing/simulation/compliance", "body": {}, "status": 200, "fault": None},
        {"path": "/e-invoicing/simulation/invoices/reporting/single", "body": {"uuid": "u"}, "status": 409},
        {"path": "/e-invoicing/simulation/invoices/reporting/single", "body": None, "fault": "down"},
    ]
    assert invoices.reporting_calls(journal) == [("u", 409, None), ("", None, "down")]


# --- plans, durations and settings --------------------------------------------------------------------


@pytest.mark.parametrize("scenario", faults.SCENARIOS)
def test_every_scenario_has_the_issues_three_minute_outage_by_default_and_takes_a_short_one(scenario):
    plan = faults.scenario_plan(scenario, quick=False, outage_seconds=None)
    assert plan.outage_seconds == 180
    short = faults.scenario_plan(scenario, quick=True, outage_seconds=5)
    assert short.outage_seconds == 5 and short.outage_end == short.outage_at + 5
    assert len(plan.kills) == 3 and plan.redis_restart_at < plan.outage_at


def test_the_channels_scenario_is_a_thousand_messages_with_fcm_down():
    plan = faults.scenario_plan("channels", quick=False, outage_seconds=None)
    assert plan.channels and plan.notifications == 1000 and plan.outage_provider == "FCM"
    assert faults.scenario_plan("sms", quick=False, outage_seconds=None).outage_provider == "SMS provider"
    invoice_plan = faults.scenario_plan("invoices", quick=False, outage_seconds=None)
    assert invoice_plan.outage_provider == "Fatoora" and invoice_plan.payments == 300


def test_the_invoice_settings_keep_what_the_settings_enforce_and_scale_with_the_outage():
    for outage in (5, 180, 3600):
        overrides = invoices.invoice_overrides(outage)
        assert set(overrides) == set(invoices.INVOICE_PRODUCTION)
        # config/settings.py: the visibility timeout (3600, unchanged) exceeds both.
        limits = [
            int(overrides[name]) for name in ("CELERY_MAX_RETRY_COUNTDOWN_SECONDS", "CELERY_TASK_TIME_LIMIT")
        ]
        assert max(limits) < 3600
        assert 30 <= int(overrides["CELERY_MAX_RETRY_COUNTDOWN_SECONDS"]) <= 600
    assert invoices.invoice_overrides(180)["CELERY_MAX_RETRY_COUNTDOWN_SECONDS"] == "60"


# --- a real run of each, with a short outage ----------------------------------------------------------


def _harness_env() -> dict[str, str]:
    """The test run's environment, with a database name of its own: `make faults` may be running."""
    env = dict(os.environ)
    parts = urlsplit(env["DATABASE_URL"])
    env["DATABASE_URL"] = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_harness_test"))
    return env


def _run(scenario: str, tmp_path: Path) -> str:
    command = [
        sys.executable, str(ROOT / "scripts" / "faults.py"), "--scenario", scenario, "--quick",
        "--outage-seconds", "6", "--log-dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(
        command, env=_harness_env(), capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _verdicts(report: str) -> dict[str, str]:
    cells = [line.split("|") for line in report.splitlines() if line.startswith("| ") and "| id " not in line]
    return {row[1].strip(): row[-2].strip() for row in cells}


@pytest.mark.slow
def test_the_invoices_scenario_reports_every_document_once_in_order(tmp_path):
    report = _run("invoices", tmp_path)
    assert _verdicts(report) == {f"I{n}": "pass" for n in range(1, 7)}, report
    assert "goals: all met" in report


@pytest.mark.slow
def test_the_channels_scenario_loses_nothing_and_duplicates_only_what_a_kill_left_at_the_provider(tmp_path):
    report = _run("channels", tmp_path)
    verdicts = _verdicts(report)
    assert {key: verdicts[key] for key in ("C1", "C5", "C6", "B1", "B2", "B3", "B4")} == dict.fromkeys(
        ("C1", "C5", "C6", "B1", "B2", "B3", "B4"), "pass"
    )
    for line in report.splitlines():
        if line.startswith("| C2 ") or line.startswith("| C3 ") or line.startswith("| C4 "):
            measured = line.split("|")[3]
            assert measured.split(";")[1].strip() == "0"  # lost
        if line.startswith("| C2 "):
            assert line.split("|")[3].split(";")[2].strip().startswith("0 ")  # no push seen twice
    explained = next(line for line in report.splitlines() if line.startswith("duplicated rows that were"))
    at_kill, total = explained.split(": ", 1)[1].split(" (")[0].split(" of ")
    assert at_kill == total  # every duplicate is a message at the provider when its worker was killed


def test_all_hands_each_scenario_the_options_it_was_given_and_no_scenario_name(tmp_path):
    parse = faults.argparse.ArgumentParser()
    parse.add_argument("--quick", action="store_true")
    parse.add_argument("--outage-seconds", type=float, default=None)
    parse.add_argument("--log-dir", type=Path, default=tmp_path)
    args = parse.parse_args(["--quick", "--outage-seconds", "6"])
    assert faults.scenario_args(args) == ["--log-dir", str(tmp_path), "--quick", "--outage-seconds", "6.0"]
    assert faults.scenario_args(parse.parse_args([])) == ["--log-dir", str(tmp_path)]
