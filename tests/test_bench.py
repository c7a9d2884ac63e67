"""The pure helpers of scripts/bench.py (`make bench`) and scripts/harness.py. Not a timed test, and not a
run of the benchmark."""

import importlib.util
import math
import os
import sys
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
    env = harness.stack_env(base, stores, sms_url="http://127.0.0.1:1", DJANGO_URLCONF="config.bench_urls")
    assert env["PATH"] == "/usr/bin"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings", "production settings, not the tests'"
    assert "GUNICORN_CMD_ARGS" not in env
    assert env["DATABASE_URL"].endswith("/salon_bench") and env["REDIS_URL"].endswith("/8")
    assert env["UNIFONIC_BASE_URL"] == "http://127.0.0.1:1"
    assert env["DJANGO_URLCONF"] == "config.bench_urls"


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
