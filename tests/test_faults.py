"""The pure parts of scripts/faults.py (`make faults`): counting lost and duplicated messages, booking
answers, the settings it shortens, the table. Not a run of the fault scenario."""

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_faults():
    # The scripts import each other as `python scripts/x.py` would: from their own directory.
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("faults", ROOT / "scripts" / "faults.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["faults"] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


faults = _load_faults()


# --- lost and duplicated ------------------------------------------------------------------------------


def test_every_row_accepted_once_is_neither_lost_nor_duplicated():
    counts = faults.count_deliveries({1: "sent", 2: "sent", 3: "sent"}, ["1", "2", "3"])
    assert counts.committed == 3 and counts.sent == 3 and counts.received == 3
    assert counts.lost == counts.duplicated == counts.unknown == counts.received_not_sent == 0


def test_a_row_the_provider_never_accepted_is_lost_whatever_our_books_say():
    statuses = {1: "sent", 2: "failed", 3: "pending", 4: "sending", 5: "sent"}
    counts = faults.count_deliveries(statuses, ["5"])
    assert counts.lost == 4
    assert (counts.lost_sent, counts.lost_failed, counts.lost_undelivered) == (1, 1, 2)
    assert (counts.sent, counts.failed, counts.undelivered) == (2, 1, 2)


def test_a_row_accepted_twice_is_duplicated_and_its_extra_messages_counted():
    counts = faults.count_deliveries({1: "sent", 2: "sent"}, ["1", "1", "1", "2"])
    assert counts.duplicated == 1
    assert counts.extra_receipts == 2
    assert counts.lost == 0 and counts.received == 2


def test_accepted_messages_of_no_committed_row_are_unknown():
    counts = faults.count_deliveries({1: "sent"}, ["1", "99", None, "", "abc"])
    assert counts.unknown == 4
    assert counts.lost == 0 and counts.duplicated == 0


def test_a_row_accepted_but_not_sent_in_our_books_disagrees():
    counts = faults.count_deliveries({1: "pending", 2: "failed", 3: "sent"}, ["1", "2", "3"])
    assert counts.received_not_sent == 2
    assert counts.lost == 0


def test_provider_calls_tell_outage_duplicates_refused_and_accepted_apart():
    journal = [
        {"fault": None, "status": 200},
        {"fault": None, "status": 200},
        {"fault": None, "status": 409},
        {"fault": "down", "status": None},
        {"fault": "fail", "status": 503},
        {"fault": None, "status": None},
        {"fault": None, "status": 482},
    ]
    assert faults.provider_calls(journal) == Counter(
        {
            "accepted": 2,
            "refused as duplicate (409)": 1,
            "outage: connection closed": 1,
            "outage: 503": 1,
            "no answer sent": 1,
            "http 482": 1,
        }
    )


# --- bookings -----------------------------------------------------------------------------------------


def _answer(key, started, status, *, booking_id=None, code="", replayed=False, replay_check=False):
    return faults.Answer(key, started, started + 0.1, status, code, booking_id, replayed, replay_check)


def test_key_outcomes_count_created_keys_replays_and_final_answers():
    answers = [
        _answer("a", 0, 503, code="service_unavailable"),
        _answer("a", 1, 409, code="request_in_progress"),
        _answer("a", 2, 201, booking_id=7),
        _answer("a", 3, 201, booking_id=7, replayed=True, replay_check=True),
        _answer("b", 0, 201, booking_id=8),
        _answer("c", 0, 0),  # the client gave up without a 201
    ]
    outcomes = faults.key_outcomes(answers)
    assert outcomes.created == 2 and outcomes.without_201 == 1
    assert outcomes.replays == outcomes.replays_consistent == 1
    assert outcomes.two_ids == 0
    assert outcomes.final == Counter({"201": 2, "no answer": 1})


def test_a_replay_naming_another_booking_is_inconsistent():
    answers = [_answer("a", 0, 201, booking_id=7), _answer("a", 1, 201, booking_id=9, replayed=True)]
    outcomes = faults.key_outcomes(answers)
    assert outcomes.two_ids == 1
    assert (outcomes.replays, outcomes.replays_consistent) == (1, 0)


def test_fault_hits_group_first_failures_by_window_and_follow_their_retries():
    windows = [faults.Window("Redis restart", 10, 12), faults.Window("PostgreSQL drops", 20, 25)]
    answers = [
        _answer("ok", 10.5, 201, booking_id=1),  # a 201 at once: not a hit, even inside a window
        _answer("r", 11, 503, code="service_unavailable"),
        _answer("r", 13, 201, booking_id=2),
        _answer("p", 21, 503, code="service_unavailable"),
        _answer("p", 22, 409, code="request_in_progress"),
        _answer("p", 81, 201, booking_id=3),
        _answer("p", 82, 201, booking_id=3, replayed=True, replay_check=True),
        _answer("x", 40, 0),
        _answer("x", 41, 201, booking_id=4),
    ]
    hits = faults.fault_hits(answers, windows)
    assert hits.first == {
        "Redis restart": Counter({"503 service_unavailable": 1}),
        "PostgreSQL drops": Counter({"503 service_unavailable": 1}),
        "no fault": Counter({"no answer": 1}),
    }
    assert hits.retries == Counter({"201": 3, "409 request_in_progress": 1})
    assert hits.longest_wait == pytest.approx(81.1 - 21)


def test_answer_labels_name_status_code_and_replay():
    assert faults.answer_label(_answer("a", 0, 0)) == "no answer"
    assert faults.answer_label(_answer("a", 0, 409, code="request_in_progress")) == "409 request_in_progress"
    assert faults.answer_label(_answer("a", 0, 201, booking_id=1, replayed=True)) == "201 (replayed)"


def test_booking_checks_add_up_every_kind_of_inconsistency():
    checks = faults.BookingChecks(
        in_database=10,
        missing=1,
        two_per_key=2,
        orphans=3,
        overlaps=4,
        confirmed_without_message=5,
        messages_without_booking=6,
        keys_in_progress=100,  # informational, not an inconsistency
    )
    assert checks.inconsistent == 21


# --- settings, plan, table ----------------------------------------------------------------------------


def test_the_shortened_retry_schedule_outlasts_the_outage_with_the_attempts_limit():
    for outage in (30, 180, 600, 3600):
        overrides = faults.delivery_overrides(outage)
        span = faults.shortest_retry_span(
            base=float(overrides["NOTIFICATION_RETRY_BASE_DELAY_SECONDS"]),
            cap=float(overrides["NOTIFICATION_RETRY_MAX_DELAY_SECONDS"]),
            attempts=faults.MAX_ATTEMPTS,
            jitter=faults.RETRY_JITTER,
        )
        assert span > 1.5 * outage or int(overrides["NOTIFICATION_RETRY_MAX_DELAY_SECONDS"]) == 600
        # What settings enforce at start (config/settings.py).
        assert int(overrides["NOTIFICATION_STALE_SECONDS"]) > int(overrides["CELERY_TASK_TIME_LIMIT"])
        assert int(overrides["NOTIFICATION_RETRY_MAX_DELAY_SECONDS"]) <= 600
        assert set(overrides) == set(faults.PRODUCTION)


def test_shortest_retry_span_is_production_s_half_hour_with_production_settings():
    # docs/adr/0002: 30 s doubling, capped at 10 min, jitter down to 0.75: more than 30 minutes.
    span = faults.shortest_retry_span(base=30, cap=600, attempts=10, jitter=0.25)
    assert span == pytest.approx(0.75 * (30 + 60 + 120 + 240 + 480 + 600 * 4))
    assert span > 30 * 60


def test_application_name_is_added_to_the_database_url_keeping_its_options():
    url = faults.with_application_name("postgres://u@h:5432/db_faults?host=/tmp/pg", "faults-web")
    assert url == "postgres://u@h:5432/db_faults?host=%2Ftmp%2Fpg&application_name=faults-web"
    again = faults.with_application_name(url, "faults-beat")
    assert again.endswith("application_name=faults-beat") and again.count("application_name") == 1


def test_plans_make_their_notifications_from_bookings_and_direct_rows():
    for plan in (faults.Plan(), faults.Plan.quick()):
        assert plan.direct + plan.bookings == plan.notifications
        assert len(plan.kills) == 3
        # The fault windows whose booking answers are told apart do not overlap.
        assert plan.redis_restart_at + plan.redis_down_seconds + 1 < plan.pg_drops_at
        assert plan.pg_drops_at + plan.pg_drops_seconds < plan.outage_at
    assert faults.Plan().notifications == 1000 and faults.Plan().outage_seconds == 180
    assert faults.Plan.quick().notifications == 200


def test_sweep_reenqueues_are_read_from_a_json_log():
    log = (
        '{"level": "WARNING", "message": "notification sweep re-enqueued 11 rows"}\n'
        '{"level": "INFO", "message": "Task notifications.sweep[x] succeeded: 11"}\n'
        '{"level": "WARNING", "message": "notification sweep re-enqueued 66 rows"}\n'
    )
    assert faults.sweep_reenqueues(log) == [11, 66]


def test_the_table_marks_misses():
    plan = faults.Plan.quick()
    deliveries = faults.count_deliveries({1: "sent", 2: "sent"}, ["1", "1"])
    keys = faults.key_outcomes([_answer("a", 0, 201, booking_id=1)])
    checks = faults.BookingChecks(1, 0, 0, 0, 0, 0, 0, 0)
    rows = {row.id: row for row in faults.table_rows(plan, deliveries, keys, checks, server_errors=1)}
    assert rows["N3"].verdict == "MISS"  # row 2 was never accepted
    assert rows["N4"].verdict == "MISS"  # row 1 twice
    assert rows["B3"].verdict == "pass"
    assert rows["B4"].verdict == "MISS"
    table = faults.render_rows(list(rows.values()))
    assert table.splitlines()[0].startswith("| id ")
    assert "| MISS " in table
