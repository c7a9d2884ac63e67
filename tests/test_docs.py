"""The README promises every environment variable the settings read, with its default."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_from_the_environment_is_documented():
    # The settings, and the modules they read the environment through.
    settings_source = "\n".join(
        (ROOT / path).read_text() for path in ("config/settings.py", "backend/core/databases.py")
    )
    names = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", settings_source))
    names |= set(re.findall(r"""["']([A-Z][A-Z0-9_]+)["'] not in env""", settings_source))
    readme = (ROOT / "README.md").read_text()
    assert names, "the pattern found no settings"
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document: {missing}"


def test_every_procfile_variable_is_documented():
    procfile = (ROOT / "Procfile").read_text()
    names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", procfile))
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document: {missing}"
