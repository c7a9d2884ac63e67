"""Every message has its Arabic translation, and none is a guess left by msgmerge (fuzzy)."""

import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parent.parent / "backend" / "locale" / "ar" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if "\nmsgid " in "\n" + block]


def test_the_arabic_catalog_is_complete_and_has_no_guesses():
    entries = _entries(CATALOG.read_text(encoding="utf-8"))[1:]  # the first is the header
    untranslated = [
        entry for entry in entries if re.search(r'\nmsgstr(\[\d\])? ""\Z', entry) or "#, fuzzy" in entry
    ]
    assert entries and not untranslated, untranslated[:5]


def test_the_compiled_catalog_is_committed_next_to_it():
    compiled = CATALOG.with_suffix(".mo")
    assert compiled.exists() and compiled.stat().st_size > 1000
