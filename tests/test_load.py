"""The pure helpers of scripts/load.py (`make load`): aggregating the locustfile's records, gunicorn's
access log, the data checks' wording and the table. Not a timed test, and not a run of the load test."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    # The scripts import each other as `python scripts/x.py` would: from their own directory.
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("load", ROOT / "scripts" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["load"] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


load = _load_script()
Record = load.Record


def records(name, *rows):
    """Records of one endpoint from (status, ms, outcome) or (status, ms, outcome, code, problem)."""
    made = []
    for row in rows:
        status, ms, outcome, *rest = row
        code, problem = [*rest, "", ""][:2]
        made.append(Record(name, status, ms, code, outcome, problem))
    return made


def test_a_record_is_read_from_the_locustfiles_row():
    record = Record.from_row(["POST /api/v1/bookings/", 409, 12.5, "slot_unavailable", "by_design", ""])
    assert record == Record("POST /api/v1/bookings/", 409, 12.5, "slot_unavailable", "by_design", "")
    with pytest.raises(ValueError):
        Record.from_row(["GET /x/", 200, 1.0, "", "fine", ""])


def test_stats_are_grouped_per_endpoint_and_count_each_outcome():
    rows = records(
        "POST /api/v1/bookings/",
        (201, 10.0, "ok"),
        (409, 20.0, "by_design", "slot_unavailable"),
        (500, 30.0, "failed", "server_error", "unexpected 500 server_error"),
        (0, 40.0, "failed", "", "no answer"),
    ) + records("GET /api/v1/salons/", (200, 5.0, "ok"))
    salons, bookings = load.endpoint_stats(rows)  # sorted by name
    assert salons.name == "GET /api/v1/salons/" and salons.requests == 1
    assert (bookings.requests, bookings.failures, bookings.server_errors, bookings.by_design) == (4, 2, 1, 1)
    assert bookings.times == [10.0, 20.0, 30.0, 40.0]

    everything = load.total([salons, bookings], "all")
    assert (everything.name, everything.requests, everything.failures, everything.server_errors) == (
        "all",
        5,
        2,
        1,
    )
    assert everything.by_design == 1
    assert salons.requests == 1, "merging leaves the parts alone"


def test_a_row_gives_percentiles_in_ms_and_the_rate():
    stats = load.endpoint_stats(records("GET /x/", *[(200, float(ms), "ok") for ms in range(1, 101)]))[0]
    assert stats.row(50.0) == ["GET /x/", "100", "0", "0", "0", "50", "95", "99", "2.0"]
    empty = load.EndpointStats("GET /y/")
    assert empty.row(None) == ["GET /y/", "0", "0", "0", "0", "n/a", "n/a", "n/a", "n/a"]


def test_the_error_rate_is_a_percentage_of_the_requests():
    assert load.error_rate(1, 400) == "0.25%"
    assert load.error_rate(0, 10) == "0.00%"
    assert load.error_rate(0, 0) == "n/a"


def test_answers_are_summed_by_endpoint_status_and_code_or_problem():
    rows = records(
        "POST /api/v1/bookings/",
        (409, 1.0, "by_design", "slot_unavailable"),
        (409, 1.0, "by_design", "slot_unavailable"),
        (500, 1.0, "failed", "server_error", "unexpected 500 server_error"),
        (201, 1.0, "failed", "", "status is 'cancelled', expected 'confirmed'"),
    )
    assert load.describe_answers(load.answer_counts(rows, "by_design")) == [
        "  POST /api/v1/bookings/: 409 slot_unavailable x 2"
    ]
    failed = load.describe_answers(load.answer_counts(rows, "failed"))
    assert "  POST /api/v1/bookings/: unexpected 500 server_error x 1" in failed
    assert "  POST /api/v1/bookings/: status is 'cancelled', expected 'confirmed' x 1" in failed
    many = load.answer_counts(
        records("GET /x/", *[(400 + n, 1.0, "failed", "", f"p{n}") for n in range(5)]), "failed"
    )
    assert load.describe_answers(many, limit=3)[-1].startswith("  ... and 2 more kinds")


def test_gunicorns_access_lines_are_parsed_and_everything_else_skipped():
    log = [
        "[2026-11-21 22:08:32 +0300] [15759] [INFO] Starting gunicorn 27.0.1",
        '127.0.0.1 [21/Nov/2026:22:08:41 +0300] "GET /api/v1/salons/3/availability/?service=2&days=1 '
        'HTTP/1.1" 200 5123 41234',
        '127.0.0.1 [21/Nov/2026:22:08:42 +0300] "POST /api/v1/payments/webhook/ HTTP/1.1" 502 120 1500',
        '{"level": "WARNING", "message": "Not Found: /api/v1/bookings/3/", "status_code": 404}',
    ]
    lines = load.parse_access_log(log)
    assert lines == [
        load.AccessLine("GET", "/api/v1/salons/3/availability/", 200, 41.234),
        load.AccessLine("POST", "/api/v1/payments/webhook/", 502, 1.5),
    ]
    stats = load.access_stats(lines, "all")
    assert (stats.requests, stats.failures, stats.server_errors) == (2, 1, 1)


def test_paths_become_templates():
    assert load.path_template("/api/v1/bookings/17/cancel/") == "/api/v1/bookings/{id}/cancel/"
    payment = "/api/v1/payments/3f1c2a9e-1b2c-4d5e-8f90-0123456789ab/"
    assert load.path_template(payment) == "/api/v1/payments/{id}/"
    assert load.path_template("/api/v1/salons/") == "/api/v1/salons/"
    assert load.path_template("/api/v1/v2x/12a/") == "/api/v1/v2x/12a/"


def test_the_data_checks_pass_when_the_database_agrees_with_the_answers():
    lines = load.consistency_lines(
        overlaps=[],
        told={1: "confirmed", 2: "cancelled"},
        stored={1: "confirmed", 2: "cancelled"},
        paid_told=[1],
        paid_stored=[1],
    )
    assert all(line.startswith("ok: ") for line in lines)
    assert "the 2 bookings answered 201" in lines[1]


def test_the_data_checks_name_every_disagreement():
    lines = load.consistency_lines(
        overlaps=[(3, 4)],
        told={1: "confirmed", 2: "cancelled", 5: "confirmed"},
        stored={1: "confirmed", 2: "confirmed", 6: "confirmed"},
        paid_told=[1],
        paid_stored=[],
    )
    failed = [line for line in lines if line.startswith("FAILED: ")]
    assert len(failed) == len(lines) == 5
    assert "1 pairs of active bookings" in failed[0] and "3/4" in failed[0]
    assert "not in the database ([5])" in failed[1]
    assert "2: told cancelled, stored confirmed" in failed[2]
    assert "no client got a 201 for ([6])" in failed[3]
    assert "read back as paid" in failed[4]


def test_the_report_is_one_table_with_the_verdicts_under_it():
    rows = records(
        "POST /api/v1/bookings/",
        (201, 80.0, "ok"),
        (409, 20.0, "by_design", "slot_unavailable"),
        (502, 30.0, "failed", "gateway_unavailable", "unexpected 502 gateway_unavailable"),
    ) + records(f"{load.FAKE_PREFIX} /_control/3ds/{{id}}", (302, 50.0, "ok"))
    webhooks = load.access_stats([load.AccessLine("POST", load.WEBHOOK_PATH, 200, 12.0)], "POST webhook ¹")
    report = load.Report(["make load, header"], rows, 10.0, webhooks, [], checks=["ok: checked"])
    text = report.render()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len({len(line) for line in table}) == 1, "every line of the table as wide as the header"
    assert table[0].split("|")[1].strip() == "endpoint"
    names = [line.split("|")[1].strip() for line in table[2:]]
    assert names == [
        "POST /api/v1/bookings/",
        "all API requests from locust",
        "POST webhook ¹",
        f"{load.FAKE_PREFIX} /_control/3ds/{{id}} ²",
    ]
    bookings = [cell.strip() for cell in table[2].split("|")[1:-1]]
    assert bookings[1:5] == ["3", "1", "1", "1"] and bookings[-1] == "0.3"
    assert "  POST /api/v1/bookings/: 409 slot_unavailable x 1" in text
    assert "  POST /api/v1/bookings/: unexpected 502 gateway_unavailable x 1" in text
    assert "error rate: 33.33% (1 failed of 3 API requests from locust" in text
    assert "5xx responses: 1 (goal 0); gunicorn's access log: 0 requests, 0 5xx" in text
    assert text.splitlines()[-3] == "ok: checked"


def test_5xx_answers_in_the_access_log_are_listed_by_endpoint():
    access = [
        load.AccessLine("POST", "/api/v1/bookings/7/cancel/", 500, 10.0),
        load.AccessLine("POST", "/api/v1/bookings/8/cancel/", 500, 10.0),
        load.AccessLine("GET", "/api/v1/salons/", 200, 10.0),
    ]
    report = load.Report(["header"], [], 10.0, load.EndpointStats("webhook"), access)
    text = report.render()
    assert "  POST /api/v1/bookings/{id}/cancel/: 500 x 2" in text
    assert "gunicorn's access log: 3 requests, 2 5xx" in text
