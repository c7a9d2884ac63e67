"""The coverage ratchet: every module under backend/ and worker/ is held at full line coverage, except the
ones listed in COVERAGE_EXEMPT.txt, and that list can only shrink: an exempt file that reaches full
coverage must leave the list (the check says so), and a file missing from the report fails.

    python scripts/coverage_ratchet.py [coverage.json]

Run by `make test` after the whole suite (pytest --cov writes coverage.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXEMPT_FILE = ROOT / "COVERAGE_EXEMPT.txt"
GUARDED = ("backend", "worker")
NOT_CODE = ("/migrations/", "/fakes/")  # generated schema steps; test doubles exercised by their own tests


def exempt_files() -> set[str]:
    lines = EXEMPT_FILE.read_text().splitlines() if EXEMPT_FILE.exists() else []
    return {line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()}


def guarded_files() -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for top in GUARDED
        for path in (ROOT / top).rglob("*.py")
        if not any(part in f"/{path.relative_to(ROOT)}" for part in NOT_CODE)
    }


def problems(report: dict, *, guarded: set[str], exempt: set[str]) -> list[str]:
    found = []
    measured = report["files"]
    for path in sorted(guarded):
        summary = measured.get(path, {}).get("summary")
        if summary is None:
            found.append(f"{path}: not in the coverage report (never imported by the tests?)")
            continue
        missing = summary["missing_lines"]
        if missing and path not in exempt:
            lines = measured[path]["missing_lines"]
            found.append(f"{path}: {missing} lines not covered ({_ranges(lines)})")
        if not missing and path in exempt:
            found.append(
                f"{path}: fully covered now: remove it from {EXEMPT_FILE.name} (the list only shrinks)"
            )
    for path in sorted(exempt - guarded):
        found.append(f"{path}: listed in {EXEMPT_FILE.name} but no such module: remove it")
    return found


def _ranges(lines: list[int]) -> str:
    spans: list[list[int]] = []
    for line in lines:
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def main(argv: list[str]) -> int:
    report_path = Path(argv[0]) if argv else ROOT / "coverage.json"
    report = json.loads(report_path.read_text())
    found = problems(report, guarded=guarded_files(), exempt=exempt_files())
    totals = report["totals"]
    print(f"coverage: {totals['percent_covered']:.1f}% of {totals['num_statements']} statements")
    for problem in found:
        print(f"coverage ratchet: {problem}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
