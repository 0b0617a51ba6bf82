"""The zh_CN catalog is complete for the code as it is: every string the code marks is
translated (no English slips into a zh report), nothing it no longer marks is kept, and
the committed .mo is the compilation of the committed .po."""

from __future__ import annotations

import io
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from pesdc import i18n

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES"


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What the code marks now, extracted as translators extract it."""
    pot = tmp_path_factory.mktemp("i18n") / "pesdc.pot"
    subprocess.run(["bash", str(ROOT / "scripts/i18n.sh"), "extract", str(pot)], check=True,
                   cwd=ROOT, env={**os.environ, "PYTHON": sys.executable})
    return _read(pot)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id) for m in catalog if m.id}


def test_the_extraction_sees_python_templates_and_the_enum_labels(template: Catalog):
    keys = _keys(template)
    assert (None, "Overall score") in keys  # the audit template
    assert (None, "{n} checks in {s} s, {when}") in keys  # verify/report.py
    assert ("severity", "critical") in keys  # an NC_ marker
    assert ("IsolationType", "none") in keys and ("topology", "none") in keys


def test_every_marked_string_is_translated(template: Catalog):
    po = _read(MESSAGES / "pesdc.po")
    missing = sorted(_keys(template) - _keys(po), key=str)
    assert not missing, f"not in the zh_CN catalog (run scripts/i18n.sh): {missing}"
    untranslated = sorted(((m.context, m.id) for m in po if m.id
                           and (not m.string or m.fuzzy)), key=str)
    assert not untranslated, f"empty or fuzzy in pesdc.po: {untranslated}"


def test_the_catalog_keeps_nothing_the_code_no_longer_marks(template: Catalog):
    po = _read(MESSAGES / "pesdc.po")
    stale = sorted(_keys(po) - _keys(template), key=str)
    assert not stale, f"in pesdc.po but no longer in the code (scripts/i18n.sh): {stale}"
    assert not po.obsolete, f"obsolete (#~) entries: {sorted(po.obsolete)}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_a_translation_keeps_the_placeholders_of_its_message():
    po = _read(MESSAGES / "pesdc.po")
    wrong = [(m.id, m.string) for m in po if m.id and not m.pluralizable
             and _fields(m.id) != _fields(m.string)]
    assert not wrong, wrong


def test_a_plural_translation_uses_the_placeholders_of_its_forms():
    """zh has one form for both of click's (singular and plural): it may use the fields
    of either, which the caller fills in both cases, and no other."""
    po = _read(MESSAGES / "pesdc.po")
    plurals = [m for m in po if m.id and m.pluralizable]
    wrong = [(m.id, s) for m in plurals for s in m.string
             if not s or not _fields(s) <= _fields(m.id[0]) | _fields(m.id[1])]
    assert plurals and not wrong, wrong


def test_the_committed_mo_is_compiled_from_the_committed_po():
    compiled = io.BytesIO()
    write_mo(compiled, _read(MESSAGES / "pesdc.po"))
    assert (MESSAGES / "pesdc.mo").read_bytes() == compiled.getvalue(), \
        "pesdc.mo is stale: run scripts/i18n.sh compile and commit it"
