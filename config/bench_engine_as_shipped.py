"""The availability engine as shipped before issue 17, P8's baseline in `make bench` (config/bench_urls.py),
read from the repository's history instead of a copy in the tree: backend/bookings/availability.py at
commit 7e14adc, the last one before issue 17 changed it. Production never imports this module.

The source comes from `git show` on first use and runs as a module of its own (`AS_SHIPPED_MODULE`), once a
process. A commit names its content for good, so P8 keeps measuring the same engine whatever the tree
becomes; a clone without that history (a shallow CI checkout, an exported tarball) gets an error that says
how to fetch it, not a different baseline. tests/salons/test_availability_body.py checks that the engine
offers the very slots today's engine offers, over the loader's types of today."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
AS_SHIPPED_COMMIT = "7e14adc95ca05977247febbba79c6b57c3761d4f"
AS_SHIPPED_PATH = "backend/bookings/availability.py"
AS_SHIPPED_MODULE = "config.bench_engine_as_shipped.engine"


class BaselineUnavailable(RuntimeError):
    """The baseline's source is not in this clone's history."""


def source_at(commit: str, path: str) -> str:
    """The text of `path` at `commit`, from this repository's history."""
    try:
        shown = subprocess.run(  # noqa: S603 - a fixed argv: git on PATH, as a developer runs it
            ["git", "-C", str(ROOT), "show", f"{commit}:{path}"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:  # no git on this machine
        raise BaselineUnavailable(f"git is needed to read {path} at {commit[:7]}: {error}") from error
    if shown.returncode != 0:
        raise BaselineUnavailable(
            f"{path} at {commit[:7]} is not in this clone's history ({shown.stderr.strip()}); "
            "a shallow clone needs `git fetch --unshallow` first"
        )
    return shown.stdout


@functools.cache
def engine() -> ModuleType:
    """The engine as shipped, loaded once a process; its functions and types as the module had them."""
    module = ModuleType(AS_SHIPPED_MODULE)
    module.__file__ = f"{AS_SHIPPED_COMMIT[:7]}:{AS_SHIPPED_PATH}"
    code = compile(source_at(AS_SHIPPED_COMMIT, AS_SHIPPED_PATH), module.__file__, "exec")
    sys.modules[AS_SHIPPED_MODULE] = module  # dataclasses look their module up while the class is made
    exec(code, module.__dict__)  # noqa: S102 - a pinned commit of this repository's own source
    return module
