"""No SQL of ours keeps state in a database session: behind PgBouncer in transaction mode (README "Scaling
the database") each transaction may run on another server connection, so what a session remembers (a SET,
a session advisory lock, a LISTEN, a held cursor, a prepared statement, a temporary table) would leak to
another client or be lost. Read from the source (every string literal of backend/, worker/ and config/,
migrations included), so it costs nothing; `make test-pgbouncer` runs the suite through a real PgBouncer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# SET LOCAL and SET CONSTRAINTS last only until the transaction ends: allowed. SQL keywords are written in
# capitals here; "Set a salon's hours" in a summary is English.
SESSION_STATE = {
    "SET or RESET of a session setting": re.compile(r"^\s*(SET(?!\s+(LOCAL|CONSTRAINTS)\b)|RESET)\s"),
    "LISTEN": re.compile(r"\b(UN)?LISTEN\s", re.I),
    "a cursor WITH HOLD": re.compile(r"\bWITH\s+HOLD\b", re.I),
    "SQL PREPARE / DEALLOCATE / DISCARD / LOAD": re.compile(r"^\s*(PREPARE|DEALLOCATE|DISCARD|LOAD)\s", re.I),
    "a session advisory lock (use pg_advisory_xact_lock)": re.compile(
        r"pg_(try_)?advisory_(un)?lock(_shared)?(_all)?\s*\(", re.I
    ),
    "a temporary table": re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\s+TABLE\b", re.I),
}


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal; an f-string whole (placeholders as `?`), so a statement reads from its start."""
    tree = ast.parse(path.read_text(), filename=str(path))
    fstrings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
    parts = {id(value) for node in fstrings for value in node.values}
    strings = [
        (node.lineno, "".join(part.value if isinstance(part, ast.Constant) else "?" for part in node.values))
        for node in fstrings
    ]
    strings += [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts
    ]
    return strings


def findings(source_paths: list[Path]) -> list[str]:
    found = []
    for path in source_paths:
        for line, text in _strings(path):
            for what, pattern in SESSION_STATE.items():
                if pattern.search(text):
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                    found.append(f"{where}:{line}: {what}")
    return found


def test_no_sql_of_ours_keeps_session_state():
    paths = [path for folder in ("backend", "worker", "config") for path in (ROOT / folder).rglob("*.py")]
    assert len(paths) > 100
    assert findings(paths) == []


FLAGGED = [
    "SET statement_timeout = 5000",
    "RESET ALL",
    "LISTEN bookings",
    "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
    "PREPARE q AS SELECT 1",
    "DISCARD ALL",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_try_advisory_lock(42)",
    "CREATE TEMP TABLE t (id int)",
]
# What lasts one transaction, and English that only looks like SQL.
PASSING = [
    "UPDATE notifications_notification\n SET status = %s WHERE id = %s",
    "SET LOCAL lock_timeout = '2s'",
    "SET CONSTRAINTS ALL IMMEDIATE",
    "SELECT pg_advisory_xact_lock(42)",
    "Set a salon's hours; a setting that listens to nobody",
]


@pytest.mark.parametrize(
    ("sql", "flagged"), [(sql, True) for sql in FLAGGED] + [(sql, False) for sql in PASSING]
)
def test_the_check_sees_each_kind_of_session_state_and_nothing_else(tmp_path, sql, flagged):
    module = tmp_path / "probe.py"
    module.write_text(f"QUERY = {sql!r}\n")
    assert len(findings([module])) == (1 if flagged else 0)
