"""The shape of backend/: no import cycle between its apps, no module over 400 lines.

Both checks read the source (``ast``, line counts), so they run in milliseconds and need no database. Each
keeps today's known exceptions as an explicit, named allowance that can only shrink: a new cycle or a new
oversized module fails, and so does an allowance that is no longer needed (remove it then)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"

MAX_MODULE_LINES = 400

# Import cycles between apps that exist today. None: bookings, payments, reviews, photos and e-invoicing
# build on salons, which reaches them only through what they register (salons/booking_hooks.py,
# salons/extensions.py), as bookings reaches payments (bookings/payment_hooks.py). Services <-> tasks (the
# Celery pattern) leaves backend/ and is no edge here. Never add an entry: mend the cycle with a hook.
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}

# Modules over MAX_MODULE_LINES today, with their size now: each may only shrink. Remove an entry once its
# module is at or under the limit (the test says so); never add one (split the module by concern instead).
OVERSIZED_MODULES: dict[str, int] = {}


def backend_modules(*, skip_fakes: bool = False) -> list[Path]:
    """Every Python module of backend/, migrations excluded (they are frozen history, not design)."""
    return sorted(
        path
        for path in BACKEND.rglob("*.py")
        if "migrations" not in path.relative_to(BACKEND).parts
        and not (skip_fakes and path.relative_to(BACKEND).parts[0] == "fakes")
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """Absolute names of what ``path`` imports, anywhere in it (module level, in functions, under
    TYPE_CHECKING), with the line: ``from backend import x`` names ``backend.x``."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "backend" else None


def app_import_graph() -> dict[str, dict[str, list[str]]]:
    """app → imported app → where ("backend/x/y.py:12"). Imports of worker.tasks (the Celery pattern
    services ↔ tasks) leave backend/ and so are not edges here."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in backend_modules():
        source = app_of(module_name(path))
        if source is None:
            continue
        for name, line in imported_modules(path):
            target = app_of(name)
            where = f"{path.relative_to(ROOT)}:{line}"
            if (
                target not in (None, source)
                and (BACKEND / target).is_dir()
                and where not in graph[source][target]
            ):
                graph[source][target].append(where)
    return graph


def simple_cycles(graph: dict[str, dict[str, list[str]]]) -> set[tuple[str, ...]]:
    """Every elementary cycle, written from its smallest app (so each appears once)."""
    cycles = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for successor in graph.get(node, {}):
            if successor == start:
                cycles.add(tuple(path))
            elif successor > start and successor not in path:
                walk(start, successor, [*path, successor])

    for start in sorted(graph):
        walk(start, start, [start])
    return cycles


def describe(cycle: tuple[str, ...], graph: dict[str, dict[str, list[str]]]) -> str:
    steps = zip(cycle, (*cycle[1:], cycle[0]), strict=True)
    return "; ".join(f"{a} → {b} ({', '.join(graph[a][b][:3])})" for a, b in steps)


def test_no_import_cycle_between_apps_but_the_known_ones():
    graph = app_import_graph()
    cycles = simple_cycles(graph)
    known = set(KNOWN_CYCLES)
    problems = [f"new import cycle between apps: {describe(c, graph)}" for c in sorted(cycles - known)]
    problems += [f"{c} is gone: remove it from KNOWN_CYCLES" for c in sorted(known - cycles)]
    assert not problems, "\n".join(problems)


def test_no_module_over_the_size_limit_but_the_known_ones_and_they_only_shrink():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in backend_modules(skip_fakes=True)
    }
    problems = []
    for name, lines in sorted(sizes.items()):
        allowed = OVERSIZED_MODULES.get(name)
        if allowed is None and lines > MAX_MODULE_LINES:
            problems.append(f"{name} has {lines} lines (limit {MAX_MODULE_LINES}): split it by concern")
        elif allowed is not None and lines > allowed:
            problems.append(f"{name} grew to {lines} lines (allowed {allowed}, only shrinking): split it")
        elif allowed is not None and lines <= MAX_MODULE_LINES:
            problems.append(f"{name} is down to {lines} lines: remove it from OVERSIZED_MODULES")
    problems += [
        f"{name} no longer exists: remove it from OVERSIZED_MODULES"
        for name in sorted(set(OVERSIZED_MODULES) - set(sizes))
    ]
    assert not problems, "\n".join(problems)


# --- the checks themselves -------------------------------------------------------------------------------


def test_cycles_are_found_once_each_from_their_smallest_app():
    graph = {
        "a": {"b": ["x"]},
        "b": {"a": ["y"], "c": ["z"]},
        "c": {"a": ["w"]},
        "d": {"a": ["v"]},
    }
    assert simple_cycles(graph) == {("a", "b"), ("a", "b", "c")}
    assert describe(("a", "b"), graph) == "a → b (x); b → a (y)"


def test_imports_are_found_at_any_depth_and_relative_ones_resolved(tmp_path, monkeypatch):
    package = tmp_path / "backend" / "shop"
    package.mkdir(parents=True)
    module = package / "services.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import models\n"
        "from .selectors import pick\n"
        "if TYPE_CHECKING:\n"
        "    from backend.payments.models import Payment\n"
        "def pay():\n"
        "    import backend.bookings.services\n"
        "    from ..core import errors\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    names = {name for name, _ in imported_modules(module)}
    assert {
        "backend.shop.models",
        "backend.shop.selectors.pick",
        "backend.payments.models.Payment",
        "backend.bookings.services",
        "backend.core.errors",
    } <= names
    assert {app_of(name) for name in names} == {None, "shop", "payments", "bookings", "core"}
