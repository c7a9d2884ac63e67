"""The ratchet's rules, on small made-up reports (the real check runs after the whole suite)."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "coverage_ratchet", Path(__file__).resolve().parent.parent / "scripts" / "coverage_ratchet.py"
)
ratchet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ratchet)


def report(**files: list[int]) -> dict:
    return {
        "files": {
            path.replace("__", "/") + ".py": {
                "summary": {"missing_lines": len(missing)},
                "missing_lines": missing,
            }
            for path, missing in files.items()
        },
        "totals": {"percent_covered": 90.0, "num_statements": 100},
    }


def test_a_guarded_file_with_missing_lines_fails_unless_exempt():
    found = ratchet.problems(
        report(backend__a=[3, 4, 5, 9], backend__b=[]), guarded={"backend/a.py", "backend/b.py"}, exempt=set()
    )
    assert found == ["backend/a.py: 4 lines not covered (3-5, 9)"]
    assert ratchet.problems(report(backend__a=[3]), guarded={"backend/a.py"}, exempt={"backend/a.py"}) == []


def test_the_exempt_list_only_shrinks():
    found = ratchet.problems(
        report(backend__a=[]), guarded={"backend/a.py"}, exempt={"backend/a.py", "backend/gone.py"}
    )
    assert any("fully covered now" in problem for problem in found)
    assert any("backend/gone.py" in problem and "no such module" in problem for problem in found)


def test_a_module_the_tests_never_import_fails():
    assert (
        "not in the coverage report" in ratchet.problems(report(), guarded={"backend/x.py"}, exempt=set())[0]
    )
