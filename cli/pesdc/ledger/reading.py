"""Read a ledger workbook into topology items, remembering the cell each value came from.

Columns are found by their header (the English key after " / ", or the whole header),
so a user may reorder or drop columns; a sheet that is not in the workbook leaves its
section of the center file as it is. Values are converted by the column's kind but not
judged here: the model's own check does that, and its problems are mapped back here.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from pesdc.i18n import N_
from pesdc.ledger.cells import CellError, from_cell
from pesdc.ledger.columns import (
    CENTER_KEYS,
    CENTER_SHEET,
    CHILDREN,
    PARENT,
    SECTIONS,
    SEGMENT_COLUMNS,
    SEGMENTS_SHEET,
    CellKind,
    Column,
    Key,
    cell_kind,
    segment_kind,
)
from pesdc.model.schema import DataCenter

# (section, index) or (section, index, child section, index) -> the sheet row it came from
Origin = tuple[Any, ...]


@dataclass
class Ledger:
    file: str
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[Origin, tuple[str, int]] = field(default_factory=dict)
    # Per sheet: each column key's letter as the workbook has it.
    letters: dict[str, dict[Key, str]] = field(default_factory=dict)
    center: dict[str, Any] | None = None
    zones: list[dict[str, Any]] | None = None
    errors: list[CellError] = field(default_factory=list)

    def error(self, at: str, row: int, column: str, message: str, hint: str = "",
              **params: Any) -> None:
        self.errors.append(CellError(self.file, at, row, column, message, hint, params))


def _set(item: dict[str, Any], key: Key, value: Any) -> None:
    for part in key[:-1]:
        item = item.setdefault(part, {})
    item[key[-1]] = value


def _header(ledger: Ledger, ws: Worksheet, columns: tuple[Column, ...]
            ) -> dict[int, Column] | None:
    """Column index -> Column, from the first row; unknown or repeated headers reported."""
    by_name = {c.en: c for c in columns} | {c.zh: c for c in columns} | \
        {c.header: c for c in columns}
    found: dict[int, Column] = {}
    for idx, cell in enumerate(next(ws.iter_rows(min_row=1, max_row=1), ()), start=1):
        text = str(cell.value).strip() if cell.value is not None else ""
        if not text:
            continue
        column = by_name.get(text) or by_name.get(text.rsplit("/", 1)[-1].strip())
        letter = get_column_letter(idx)
        if column is None:
            ledger.error(ws.title, 1, letter, N_("unknown column {header!r}"),
                         N_("use the headers pesdc ledger export writes: {allowed}"),
                         header=text, allowed=", ".join(c.en for c in columns))
        elif column in found.values():
            ledger.error(ws.title, 1, letter, N_("column {header!r} is given twice"),
                         N_("keep one of the two columns"), header=column.en)
        else:
            found[idx] = column
    ledger.letters[ws.title] = {c.key: get_column_letter(i) for i, c in found.items()}
    return found


def _rows(ws: Worksheet, header: dict[int, Column], kinds: dict[Key, CellKind]
          ) -> list[tuple[int, dict[str, Any]]]:
    """(row number, item) for every row that is not empty."""
    out = []
    for r, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        item: dict[str, Any] = {}
        for idx, column in header.items():
            value = values[idx - 1] if idx - 1 < len(values) else None
            converted = from_cell(value, kinds[column.key])
            if converted is not None:
                _set(item, column.key, converted)
        if item:
            out.append((r, item))
    return out


def _require(ledger: Ledger, sheet: str, header: dict[int, Column], key: str) -> bool:
    if any(c.key == (key,) for c in header.values()):
        return True
    ledger.error(sheet, 1, "", N_("sheet {sheet} has no column {key!r}"),
                 N_("add the column (pesdc ledger export writes every column)"),
                 sheet=sheet, key=key)
    return False


def _read_sections(ledger: Ledger, wb: Any) -> None:
    for top in SECTIONS:
        if top.name not in wb.sheetnames:
            continue
        ws = wb[top.name]
        header = _header(ledger, ws, top.columns)
        kinds = {c.key: top.kind(c) for c in top.columns}
        items = []
        for i, (r, item) in enumerate(_rows(ws, header or {}, kinds)):
            items.append(item)
            ledger.rows[(top.section, i)] = (top.name, r)
        ledger.sections[top.section] = items
        for child in CHILDREN[top.name]:
            _read_child(ledger, wb, child, top.section, items)


def _read_child(ledger: Ledger, wb: Any, child: Any, section: str,
                items: list[dict[str, Any]]) -> None:
    if child.name not in wb.sheetnames:
        ledger.error(child.name, 0, "", N_("sheet {sheet} is missing: the {parent} sheet "
                                           "cannot be read without it"),
                     N_("export a ledger with pesdc ledger export and edit that"),
                     sheet=child.name, parent=child.parent)
        return
    ws = wb[child.name]
    header = _header(ledger, ws, child.columns) or {}
    if not _require(ledger, child.name, header, PARENT):
        return
    kinds = {c.key: child.kind(c) for c in child.columns}
    index: dict[Any, int] = {}
    for i, item in enumerate(items):
        index.setdefault(item.get("name"), i)
    letter = ledger.letters[child.name][(PARENT,)]
    for r, sub in _rows(ws, header, kinds):
        owner = sub.pop(PARENT, None)
        if owner is None:
            ledger.error(child.name, r, letter, N_("the {parent} of this row is empty"),
                         N_("name the device the row belongs to"), parent=PARENT)
            continue
        if owner not in index:
            ledger.error(child.name, r, letter,
                         N_("no {parent} named {name!r} in sheet {sheet}"),
                         N_("add it to sheet {sheet}, or correct the name"),
                         parent=PARENT, name=owner, sheet=child.parent)
            continue
        i = index[owner]
        subs = items[i].setdefault(child.section, [])
        ledger.rows[(section, i, child.section, len(subs))] = (child.name, r)
        subs.append(sub)


def _read_reference(ledger: Ledger, wb: Any) -> None:
    """The center and segments sheets, which a new file is made from."""
    if CENTER_SHEET in wb.sheetnames:
        ws = wb[CENTER_SHEET]
        header = _header(ledger, ws, CENTER_KEYS) or {}
        kinds = {c.key: cell_kind(DataCenter, c.key) for c in CENTER_KEYS}
        rows = _rows(ws, header, kinds)
        ledger.center = rows[0][1] if rows else None
    if SEGMENTS_SHEET in wb.sheetnames:
        ws = wb[SEGMENTS_SHEET]
        header = _header(ledger, ws, SEGMENT_COLUMNS) or {}
        kinds = {c.key: segment_kind(c) for c in SEGMENT_COLUMNS}
        zones: dict[str, dict[str, Any]] = {}
        for _, row in _rows(ws, header, kinds):
            name = row.pop("zone", None)
            zone = zones.setdefault(str(name), {"name": name})
            if "zone_kind" in row:
                zone["kind"] = row.pop("zone_kind")
            if "zone_title" in row:
                zone["title"] = row.pop("zone_title")
            if row:
                zone.setdefault("segments", []).append(row)
        ledger.zones = list(zones.values())


def read_ledger(path: Path, display: str | None = None) -> Ledger:
    ledger = Ledger(display or str(path))
    try:
        wb = load_workbook(path, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        ledger.error("", 0, "", N_("cannot read the workbook: {why}"),
                     N_("give an .xlsx file written by pesdc ledger export or a "
                        "spreadsheet program"), why=str(exc) or type(exc).__name__)
        return ledger
    _read_sections(ledger, wb)
    _read_reference(ledger, wb)
    return ledger
