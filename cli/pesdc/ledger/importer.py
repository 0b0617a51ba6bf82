"""Import a ledger into a center file: read, splice, check as `pesdc validate` does, and
write only when nothing is wrong.

The checked text is a hidden file next to the target, loaded with the rest of the tree
(the target's own old version left out), so tree defaults and the rules between centers
apply as they will once it is written. Each problem the model or the rules find in it
is mapped back to the cell its value came from; what has no cell (a value inherited from
a defaults file, a rule about the whole center) keeps its file:line. The target is
replaced atomically, and only when there is no error.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pesdc.i18n import N_
from pesdc.ledger.cells import CellError
from pesdc.ledger.columns import CENTER_SHEET, CHILDREN, SECTIONS, Key
from pesdc.ledger.reading import Ledger, read_ledger
from pesdc.ledger.splice import SpliceError, splice
from pesdc.model import validate
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.loader import TREE_MARKER, _display, discover, tree_root
from pesdc.model.yamlio import Locator, read_yaml

SHEET_OF = {s.section: s for s in SECTIONS}
CHILD_OF = {(top.section, c.section): c for top in SECTIONS for c in CHILDREN[top.name]}
_MISSING_KEY = re.compile(r"^missing required key '([^']+)'")


@dataclass
class ImportResult:
    cells: list[CellError] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # no cell to point at
    written: Path | None = None
    checked_as: str | None = None  # where it was checked (shown), when not where written

    @property
    def ok(self) -> bool:
        return not self.cells and not any(d.severity.value == "error"
                                          for d in self.diagnostics)


def _fresh_text(ledger: Ledger) -> str | None:
    """The start of a new center file: its header and zones, from the reference sheets."""
    if not ledger.center:
        ledger.error(CENTER_SHEET, 0, "", N_("sheet {sheet} is missing or empty: a new "
                                             "file needs the center's name, tier, "
                                             "division code and title"),
                     N_("give --into an existing center file, or fill sheet {sheet}"),
                     sheet=CENTER_SHEET)
        return None
    dc = dict(ledger.center)
    if ledger.zones:
        dc["zones"] = ledger.zones
    return yaml.dump({"datacenter": dc}, Dumper=yaml.SafeDumper, default_flow_style=None,
                     allow_unicode=True, sort_keys=False, width=96)


def _column(ledger: Ledger, sheet: str, rest: tuple[Any, ...]) -> str:
    """The letter of the column a key path names (``roles[0]`` -> roles)."""
    key: Key = tuple(p for p in rest if isinstance(p, str))
    letters = ledger.letters.get(sheet, {})
    for n in range(len(key), 0, -1):
        if key[:n] in letters:
            return letters[key[:n]]
    starts = [letters[k] for k in letters if key and k[:len(key)] == key]
    return starts[0] if starts else ""


def to_cell(ledger: Ledger, d: Diagnostic) -> CellError | None:
    """The cell a problem of the checked file is about, when its value came from one."""
    path = d.path
    if len(path) < 3 or path[0] != "datacenter" or path[1] not in ledger.sections \
            or not isinstance(path[2], int):
        return None
    missing = _MISSING_KEY.match(d.message) if d.rule == "SCH003" else None
    if missing:  # the loader points a missing key at its mapping
        path = (*path, missing.group(1))
    origin: tuple[Any, ...] = (path[1], path[2])
    rest = path[3:]
    if len(path) > 4 and (path[1], path[3]) in CHILD_OF and isinstance(path[4], int):
        origin, rest = (*origin, path[3], path[4]), path[5:]
    if origin not in ledger.rows:
        return None
    sheet, row = ledger.rows[origin]
    column = _column(ledger, sheet, rest)
    if d.args is not None:  # a marked problem: shown in the language of the run
        return CellError(ledger.file, sheet, row, column, d.template, d.hint_template,
                         dict(d.args), rule=d.rule)
    return CellError(ledger.file, sheet, row, column, d.message, d.hint, rule=d.rule)


def _tree_files(target: Path, leave_out: set[Path]) -> list[Path]:
    root = tree_root(target.parent)
    if root is None:
        return []
    from pesdc.model.diagnostics import Report

    return [f for f in discover([root], Report()) if f.resolve() not in leave_out]


def _key(d: Diagnostic) -> tuple[str, str, str]:
    return d.file, d.rule, d.message


def checked_in_place_of(target: Path, into: Path | None) -> Path:
    """Where the result is checked: where it is written, unless that is outside any
    topology tree while the file updated (``--into``) is in one. The result is then the
    new version of that center file (written aside, ``-o``, to be looked at or copied
    over it): it is checked in that file's place, with its tree's defaults and the
    centers around it, as an import in place would be. Outside a tree the defaults files
    and the parent would not apply, and every inherited value would be missing."""
    if into is not None and tree_root(target.parent) is None \
            and tree_root(into.parent) is not None:
        return into
    return target


def check(ledger: Ledger, text: str, target: Path, base: Path | None,
          result: ImportResult, place: Path | None = None) -> None:
    """Validate ``text`` as the target, in its place or in ``place``, with the rest of
    that tree; map the problems (named in the target)."""
    place = place or target
    leave_out = {target.resolve(), place.resolve()} | ({base.resolve()} if base else set())
    others = _tree_files(place, leave_out)
    probe = place.with_name(f".{place.name}.ledger-{os.getpid()}.yaml")
    probe.write_text(text, encoding="utf-8")
    try:
        loaded = validate([*others, probe])
    finally:
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()
    shown, real = _display(probe), _display(target)
    elsewhere = [d for d in loaded.report.diagnostics if d.file != shown]
    before: set[tuple[str, str, str]] = set()
    if elsewhere and others:  # problems of other files that this import did not cause
        old = [*others, base] if base else others
        before = {_key(d) for d in validate(old).report.diagnostics}
    for d in loaded.report.diagnostics:
        if d.file == shown:
            cell = to_cell(ledger, d)
            if cell is not None:
                if d.severity.value == "error":
                    result.cells.append(cell)
                else:
                    result.diagnostics.append(_renamed(d, real))
                continue
            result.diagnostics.append(_renamed(d, real))
        elif _key(d) not in before:
            result.diagnostics.append(d)


def _renamed(d: Diagnostic, display: str) -> Diagnostic:
    d.file = display
    return d


def _relocate(result: ImportResult, ledger: Ledger, base: Path, target: Path) -> None:
    """After a failed import, the lines outside the sections the ledger wrote are looked
    up in the file as it is (nothing was written, so a line of the checked text would
    point nowhere)."""
    display = _display(target)
    locator = Locator({display: base})
    for d in result.diagnostics:
        owned = len(d.path) > 1 and d.path[1] in ledger.sections
        if d.file == display and d.path and not owned:
            d.line, d.column = locator.locate(display, d.path)


def import_ledger(xlsx: Path, into: Path | None, output: Path | None) -> ImportResult:
    """Import ``xlsx`` into the center file ``into`` (written to ``output`` when given,
    else in place), or into a new file ``output``. Nothing is written on any error."""
    result = ImportResult()
    ledger = read_ledger(xlsx, _display(xlsx))
    target = output or into
    assert target is not None, "the command asks for --into or -o"
    text = _new_text(ledger, into, result)
    result.cells.extend(ledger.errors)
    if text is None or _treeless(ledger, into, target, result):
        return result
    place = checked_in_place_of(target, into)
    if place != target:
        result.checked_as = _display(place)
    check(ledger, text, target, into, result, place)
    result.cells.sort(key=CellError.sort_key)
    if result.ok:
        from pesdc.durable import atomic_write

        mode = (into.stat().st_mode & 0o777) if into and into.exists() else 0o644
        atomic_write(target, text, mode=mode, what="center file")
        result.written = target
    elif into is not None:
        _relocate(result, ledger, into, target)
    return result


def _treeless(ledger: Ledger, into: Path | None, target: Path,
              result: ImportResult) -> bool:
    """A new center file (no ``--into``) of a center under another, to be written outside
    any topology tree: it can only be checked with the tree that holds its parent (its
    defaults, its parent), so it is refused in one line instead of the many problems of
    a file checked alone (every inherited value missing, the parent unknown)."""
    parent = (ledger.center or {}).get("parent")
    if into is not None or not parent or tree_root(target.parent) is not None:
        return False
    result.diagnostics.append(Diagnostic.marked(
        "LEDGER", N_("a new file outside any topology tree (no {marker} at or above "
                     "it): center {center} is checked with the tree of its parent "
                     "{parent}, whose defaults it inherits; write it into that tree: -o "
                     "TREE/FOLDER/{center}.yaml"),
        _display(target), marker=TREE_MARKER,
        center=str(ledger.center.get("name") if ledger.center else "?"),
        parent=str(parent)))
    return True


def _new_text(ledger: Ledger, into: Path | None, result: ImportResult) -> str | None:
    if not ledger.sections and not ledger.errors:
        ledger.error("", 0, "", N_("the workbook has none of the sheets {sheets}"),
                     N_("export a ledger with pesdc ledger export and edit that"),
                     sheets=", ".join(s.name for s in SECTIONS))
    if into is None:
        start = _fresh_text(ledger)
        return None if start is None else splice(start, ledger.sections, {})
    display = _display(into)
    data, diags = read_yaml(into, display)
    if diags or not isinstance(data, dict) or not isinstance(data.get("datacenter"), dict):
        result.diagnostics.extend(diags or [Diagnostic(
            "YAML003", "not a center file (no datacenter: mapping)", display, (),
            "give --into the YAML file of one center")])
        return None
    old = data["datacenter"]
    named = (ledger.center or {}).get("name")
    if named is not None and named != old.get("name"):
        letter = ledger.letters.get(CENTER_SHEET, {}).get(("name",), "A")
        ledger.error(CENTER_SHEET, 2, letter, N_("the ledger is of center {ledger!r}, the "
                                                 "file of center {file!r}"),
                     N_("import it into the file of center {ledger!r}"),
                     ledger=str(named), file=str(old.get("name")))
        return None
    try:
        return splice(into.read_text(encoding="utf-8"), ledger.sections, old)
    except (SpliceError, OSError, UnicodeDecodeError) as exc:
        result.diagnostics.append(Diagnostic("YAML003", str(exc), display, (),
                                             "fix the file so that it loads"))
        return None
