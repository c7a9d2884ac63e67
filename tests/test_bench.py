"""The pure helpers of scripts/bench.py (`make bench`) and scripts/harness.py. Not a timed test, and not a
run of the benchmark."""

import argparse
import importlib.util
import math
import os
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_bench():
    # The scripts import each other as `python scripts/x.py` would: from their own directory.
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
harness = sys.modules["harness"]


def test_percentile_interpolates_between_closest_ranks():
    values = list(range(1, 101))  # 1..100, given out of order below
    assert harness.percentile(values[::-1], 95) == pytest.approx(95.05)
    assert harness.percentile(values, 50) == pytest.approx(50.5)
    assert harness.percentile(values, 0) == 1
    assert harness.percentile(values, 100) == 100
    assert harness.percentile([7.0], 95) == 7.0


@pytest.mark.parametrize("values, q", [([], 95), ([1.0], 101), ([1.0], -1)])
def test_percentile_refuses_what_has_no_answer(values, q):
    with pytest.raises(ValueError):
        harness.percentile(values, q)


def test_ratios_are_formatted_with_two_decimals_or_na():
    assert bench.format_ratio(1.0 / 3) == "0.33"
    assert bench.format_ratio(None) == "n/a"
    assert bench.format_ratio(math.inf) == "n/a"
    assert bench.format_ratio(math.nan) == "n/a"
    assert bench.safe_ratio(1, 0) is None
    assert bench.safe_ratio(3, 2) == 1.5


def test_goals_bound_a_ratio_from_above_or_below():
    at_most, at_least = bench.Goal("<=", 1.2), bench.Goal(">=", 0.5)
    assert str(at_most) == "≤ 1.2" and str(at_least) == "≥ 0.5"
    assert at_most.met(1.2) and not at_most.met(1.21)
    assert at_least.met(0.5) and not at_least.met(0.49)
    assert not at_least.met(None) and not at_most.met(math.nan)


def test_a_figure_passes_only_when_its_ratio_and_its_checks_hold():
    goal = bench.Goal("<=", 3)
    assert bench.Figure("P5", "what", "measured", 0.5, goal).verdict == "pass"
    assert bench.Figure("P5", "what", "measured", 0.5, goal, checks_ok=False).verdict == "MISS"
    assert bench.Figure("P5", "what", "measured", 3.5, goal).verdict == "MISS"


def test_the_table_is_markdown_with_aligned_columns():
    figures = [
        bench.Figure("P1", "booking p95", "310 ms ÷ 300 ms", 310 / 300, bench.Goal("<=", 1.2)),
        bench.Figure("P4b", "deliveries", "52 ÷ 100 per s", 0.52, bench.Goal(">=", 0.8)),
    ]
    lines = bench.render_table(bench.TABLE_HEADERS, bench.figure_rows(figures)).splitlines()
    assert lines[0].split("|")[1:-1] == [" id  ", " what        ", " measured        ", " ratio ", " goal  ",
                                         " result "]  # fmt: skip
    assert set(lines[1]) == {"|", "-"}
    assert len({len(line) for line in lines}) == 1, "every line as wide as the header"
    assert "| 1.03  | ≤ 1.2 | pass   |" in lines[2]
    assert "| 0.52  | ≥ 0.8 | MISS   |" in lines[3]


def test_the_scratch_database_and_redis_database_are_derived_from_the_urls():
    assert harness.scratch_database_url("postgres://postgres@127.0.0.1:5432/salon", "bench") == (
        "postgres://postgres@127.0.0.1:5432/salon_bench",
        "salon_bench",
    )
    assert harness.scratch_database_url("postgres://postgres@/salon?host=/x/.dev/postgres", "faults") == (
        "postgres://postgres@/salon_faults?host=/x/.dev/postgres",
        "salon_faults",
    )
    with pytest.raises(harness.HarnessError):
        harness.scratch_database_url("postgres://postgres@127.0.0.1:5432/", "bench")
    assert harness.redis_url_with_db("redis://:pw@127.0.0.1:6379/0", 8) == "redis://:pw@127.0.0.1:6379/8"
    stores = harness.stores_from_env(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/salon", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        purpose="load",
        redis_db=9,
    )
    assert (stores.database_name, stores.redis_url) == ("salon_load", "redis://127.0.0.1:6379/9")
    assert stores.log_dir == ROOT / ".dev" / "load"
    with pytest.raises(harness.HarnessError, match="make faults"):
        harness.stores_from_env({"DATABASE_URL": "postgres://x/salon"}, purpose="faults", redis_db=9)


def test_a_loopback_run_changes_only_what_it_must_of_production_settings():
    stores = harness.stores_from_env(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/salon", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        purpose="bench",
        redis_db=8,
    )
    base = {
        "PATH": "/usr/bin",
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "GUNICORN_CMD_ARGS": "--reload",
    }
    env = harness.stack_env(base, stores, sms_url="http://127.0.0.1:1")
    assert env["PATH"] == "/usr/bin"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings", "production settings, not the tests'"
    assert "GUNICORN_CMD_ARGS" not in env
    assert env["DATABASE_URL"].endswith("/salon_bench") and env["REDIS_URL"].endswith("/8")
    assert env["UNIFONIC_BASE_URL"] == "http://127.0.0.1:1"
    assert bench.bench_env(stores)["DJANGO_SETTINGS_MODULE"] == "config.bench_settings"


def test_the_cpu_model_is_read_from_cpuinfo():
    assert harness.cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n") == "AMD EPYC 7B13"
    assert harness.cpu_model("processor\t: 0\n") == "unknown CPU"


def test_a_scaled_plan_shrinks_the_rounds_but_not_p5():
    full, quick = bench.Plan(), bench.Plan().scaled(0.25)
    assert quick.p5_concurrent == full.p5_concurrent == 100
    assert (quick.p1_round, quick.p2_round, quick.p4_round) == (5, 19, 25)
    assert bench.Plan().scaled(0.001).p1_round == 1, "never an empty round"
    assert bench.per_kind(full.p1_round, full.p1_repeats) == 200
    assert quick.slots_needed() < full.slots_needed()


def test_the_rest_of_the_machine_is_its_busy_cpu_less_the_measured_processes():
    tick = os.sysconf("SC_CLK_TCK")
    web = harness.CpuMeter(lambda: [], seconds=1.0, busy_ticks=3 * tick, total_ticks=8 * tick)
    client = harness.CpuMeter(lambda: [], seconds=0.5)
    assert web.rest_of_machine_per_unit_ms(100, besides=[client]) == "15.0 ms"  # (3 - 1 - 0.5) s / 100
    assert web.rest_of_machine_per_unit_ms(0, besides=[client]) == "n/a"
    unreadable = harness.CpuMeter(lambda: [], seconds=math.nan)
    assert web.rest_of_machine_per_unit_ms(100, besides=[unreadable]) == "n/a"
    assert harness.CpuMeter(lambda: []).rest_of_machine_per_unit_ms(100, besides=[]) == "n/a"


# --- the availability rows (P6, P7, P8) ------------------------------------------------------------------
def test_rows_are_named_in_any_case_and_come_back_in_the_tables_order():
    assert bench.parse_rows("all") == bench.ROW_IDS
    assert bench.parse_rows("p8, P6,p4B") == ("P4b", "P6", "P8")
    assert bench.parse_rows("p9S,p9,p11") == ("P9", "P9s", "P11")
    for wrong in ("P12", "", " , "):
        with pytest.raises(argparse.ArgumentTypeError, match="the rows are P1, P2"):
            bench.parse_rows(wrong)
    with pytest.raises(SystemExit):
        bench.main(["--rows", "P12"])


def test_reads_expect_200_creates_201_and_the_same_slot_race_is_judged_apart():
    assert bench.expected_status("P8 A") == bench.expected_status("P8 warm-up") == 200
    assert bench.expected_status("P10 with invoice") == bench.expected_status("P10 without invoice") == 200
    assert bench.expected_status("P2 booking") == bench.expected_status("P5 distinct") == 201
    assert bench.expected_status("P5 same") is None
    report = bench.Report(
        [],
        {
            "P8 B": Counter({200: 3, 503: 1}),
            "P2 booking": Counter({201: 5}),
            "P5 same": Counter({201: 1, 409: 99}),
            "P1": Counter({201: 2, 409: 1}),
        },
        [],
    )
    assert report.unexpected() == {"P8 B": Counter({503: 1}), "P1": Counter({409: 1})}
    assert report.server_errors() == 1


def test_the_availability_scenario_names_both_paths_and_its_queries():
    scenario = bench.AvailabilityScenario(salon_id=4, service_id=9, staff_id=11, first_day=date(2031, 3, 1))
    assert scenario.path() == "/api/v1/salons/4/availability/"
    assert scenario.path(as_shipped=True) == "/bench/salons/4/availability-as-shipped/"
    assert scenario.query(days=7) == {"service": "9", "date": "2031-03-01", "days": "7"}
    assert scenario.query(days=1, one_staff=True)["staff"] == "11"


def test_redis_calls_count_round_trips_and_replies_then_stop_counting(db):
    from django.core.cache import cache

    calls = bench.RedisCalls()
    with calls.counting():
        cache.set("bench-test", 1)
        cache.get("bench-test")
        pipeline = cache._cache.get_client("bench-test", write=True).pipeline(transaction=False)
        pipeline.get("a").get("b")
        pipeline.execute()  # two commands, one round trip
    assert (calls.round_trips, calls.replies) == (3, 4)
    cache.get("bench-test")
    assert (calls.round_trips, calls.replies) == (3, 4)


@pytest.mark.urls("config.bench_urls")
def test_an_availability_request_is_counted_through_the_whole_django_stack(db):
    from backend.bookings.management.commands.bench_availability import _book, _salon_with_staff

    salon, service = _salon_with_staff(staff_count=2)
    first_day = date.today() + timedelta(days=7)
    _book(salon=salon, service=service, date_from=first_day, days=2, count=4)
    scenario = bench.AvailabilityScenario(
        salon_id=salon.pk, service_id=service.pk, staff_id=salon.staff.first().pk, first_day=first_day
    )
    costs = bench.availability_request_costs(scenario, days=2, requests=3)
    # Two queries; no Redis here: the test settings turn throttling off.
    assert (costs.requests, costs.queries, costs.round_trips, costs.replies) == (3, 2, 0, 0)
    assert costs.slots > 2 * 2 * 20
    one = bench.availability_request_costs(scenario, days=1, one_staff=True, requests=2)
    assert one.slots < costs.slots
    broken = bench.AvailabilityScenario(salon_id=0, service_id=0, staff_id=0, first_day=first_day)
    with pytest.raises(bench.HarnessError, match="availability answered 404"):
        bench.availability_request_costs(broken, days=1, requests=1)


def test_checkouts_go_to_each_salons_own_bookings_as_its_manager():
    scenario = bench.CheckoutScenario(
        plain_salon_id=3, invoicing_salon_id=4, token="t", bookings={3: [10, 11], 4: [20, 21]}
    )
    (job,) = scenario.jobs(4, [21])
    assert job == bench.Job("/api/v1/manage/salons/4/bookings/21/checkout/", "t", {"method": "cash"})
    assert bench.parse_rows("p11,p10") == ("P10", "P11")
    assert {"P10", "P11"} <= bench.STACK_ROWS
    assert bench.per_kind(bench.Plan().p10_round, bench.Plan().p10_repeats) == 160


# --- P8's baseline: the engine as shipped, from git history ------------------------------------------------
def test_the_as_shipped_engine_is_the_pinned_commits_file_loaded_once():
    from config import bench_engine_as_shipped as baseline

    engine = baseline.engine()
    assert baseline.engine() is engine, "read from git once a process"
    assert sys.modules[baseline.AS_SHIPPED_MODULE] is engine
    assert engine.__file__ == f"7e14adc:{baseline.AS_SHIPPED_PATH}"
    assert engine.slots_for_any_staff.__module__ == baseline.AS_SHIPPED_MODULE
    source = baseline.source_at(baseline.AS_SHIPPED_COMMIT, baseline.AS_SHIPPED_PATH)
    assert source.startswith('"""The availability engine: when a service can be booked')


def test_a_clone_without_the_baselines_history_is_told_how_to_fetch_it():
    from config import bench_engine_as_shipped as baseline

    with pytest.raises(baseline.BaselineUnavailable, match="git fetch --unshallow"):
        baseline.source_at("0" * 40, baseline.AS_SHIPPED_PATH)


# --- the visit rows (V4: visits created over HTTP) ---------------------------------------------------------
visits = sys.modules["bench_visits"]


def test_v4_is_a_stack_row_of_300_creates_a_kind_and_its_plan_scales():
    full, quick = bench.Plan(), bench.Plan().scaled(0.25)
    assert "V4" in bench.STACK_ROWS and {"V2", "V3"}.isdisjoint(bench.STACK_ROWS)
    assert bench.per_kind(full.v4_round, full.v4_repeats) == 300
    assert full.v4_starts_needed() == 2 * (300 + full.v4_clients), "both kinds, and a warm-up round each"
    assert (quick.v4_round, quick.v4_service_round, quick.v4_clients) == (6, 2, 8)
    assert bench.per_kind(full.v4_service_round, full.v4_service_repeats) == 100
    assert bench.Plan().scaled(0.001).v4_round == 5
    assert bench.expected_status("V4 visit") == bench.expected_status("V4 warm-up") == 201


def test_the_visit_lattice_is_every_hour_from_each_opening():
    from zoneinfo import ZoneInfo

    riyadh = ZoneInfo("Asia/Riyadh")

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2031, 3, 1, hour, minute, tzinfo=riyadh)

    assert [visits.on_lattice(at(h)) for h in (10, 11, 12, 16, 22)] == [True] * 5
    assert not any(visits.on_lattice(at(h, m)) for h, m in ((10, 15), (16, 45), (9, 0), (12, 30)))
    offered = [(7, at(10)), (8, at(10)), (7, at(10, 15)), (7, at(11).astimezone(UTC))]
    starts = visits.lattice_starts(offered, tz=riyadh)
    assert starts == [
        visits.LatticeStart(7, "2031-03-01T10:00:00+03:00"),
        visits.LatticeStart(8, "2031-03-01T10:00:00+03:00"),
        visits.LatticeStart(7, "2031-03-01T11:00:00+03:00"),
    ], "the salon's offset, in the engine's order"


def test_a_visit_request_gives_both_items_one_staff_member_and_a_key_of_its_own():
    start = visits.LatticeStart(7, "2031-03-01T10:00:00+03:00")
    later = visits.LatticeStart(8, "2031-03-01T10:00:00+03:00")
    scenario = visits.VisitScenario(salon_id=3, service_ids=(11, 12), starts=iter([start, later]))
    assert scenario.body("A", start) == {"salon": 3, "service": 11, "staff": 7, "start": start.start}
    assert scenario.body("B", start) == {
        "salon": 3,
        "start": start.start,
        "items": [{"service": 11, "staff": 7}, {"service": 12, "staff": 7}],
    }
    jobs = bench.visit_jobs(scenario, "B", 2, iter(["t1", "t2"]))
    assert [(job.path, job.token) for job in jobs] == [
        (bench.BOOKINGS_PATH, "t1"),
        (bench.BOOKINGS_PATH, "t2"),
    ]
    assert len({job.idempotency_key for job in jobs}) == 2 and all(job.idempotency_key for job in jobs)
    with pytest.raises(bench.HarnessError, match="ran out"):
        bench.visit_jobs(scenario, "A", 1, iter(["t3"]))


def test_the_visit_checks_name_every_create_short_of_its_request_and_every_overlap():
    created, requested = Counter({"A": 10, "B": 9}), Counter({"A": 10, "B": 10})
    as_created = visits.VisitChecks({1: 10, 2: 9}, staff_overlaps=0, customer_overlaps=0)
    assert as_created.problems(created, created) == []
    assert as_created.problems(created, requested) == ["B: 9 of 10 created"]
    wrong = visits.VisitChecks({1: 11, 2: 8}, staff_overlaps=2, customer_overlaps=1)
    assert wrong.problems(created, created) == [
        "stored bookings by items {1: 11, 2: 8}, expected {1: 10, 2: 9}",
        "2 overlapping pairs of a staff member's occupations",
        "1 overlapping pairs of a customer's visits",
    ]


def test_every_start_of_the_visit_lattice_is_created_in_any_order_and_checked(db):
    from rest_framework.test import APIClient

    from backend.accounts.models import User

    scenario = visits.make_visit_scenario(40)  # two start times of the 20 staff members
    starts = list(scenario.starts)
    assert len({start.staff_id for start in starts}) == visits.VISIT_STAFF
    client = APIClient()
    kinds = {}
    for n, start in enumerate(reversed(starts)):  # the latest first: the order does not matter
        kind = "AB"[n % 2]
        client.force_authenticate(User.objects.create_user(f"+96655{n:07d}"))
        response = client.post(
            bench.BOOKINGS_PATH, scenario.body(kind, start), format="json", HTTP_IDEMPOTENCY_KEY=f"k{n}"
        )
        assert response.status_code == 201, response.json()
        assert len(response.json()["items"]) == {"A": 1, "B": 2}[kind]
        kinds[kind] = kinds.get(kind, 0) + 1
    checks = visits.visit_checks(scenario.salon_id)
    assert checks == visits.VisitChecks({1: 20, 2: 20}, 0, 0)
    assert checks.problems(Counter(kinds), Counter(kinds)) == []
