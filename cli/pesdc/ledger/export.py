"""Write a center's servers, devices (with their interfaces and static routes), links and
sites to an XLSX ledger (设备台账 / 服务器台账), one sheet each.

The cells hold the center file's own values, as written in it: a value the center takes
from a defaults file (a role's zone, a kind's platform) is left empty, so an import puts
back what the file said and no more. The same tree gives the same bytes: the workbook's
dates and the archive's timestamps are fixed.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import ARC_CORE
from openpyxl.xml.functions import tostring

from pesdc.ledger.cells import to_cell
from pesdc.ledger.columns import (
    CENTER_KEYS,
    CENTER_SHEET,
    CHILDREN,
    LISTS_SHEET,
    PARENT,
    SECTIONS,
    SEGMENT_COLUMNS,
    SEGMENTS_SHEET,
    SHEETS,
    CellKind,
    Column,
    Key,
    cell_kind,
    segment_kind,
)
from pesdc.model.schema import DataCenter

FIXED_TIME = datetime(2000, 1, 1)  # the workbook's created/modified: no clock in the bytes
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
LAST_ROW = 1048576  # Excel's last row: a drop-down covers rows added later too
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")

Row = list[Any]


def _get(item: dict[str, Any], key: Key) -> Any:
    value: Any = item
    for part in key:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def section_rows(center: dict[str, Any]) -> dict[str, list[Row]]:
    """Every sheet's rows from the center's own YAML mapping (``datacenter:``)."""
    rows: dict[str, list[Row]] = {}
    for sheet in SECTIONS:
        items = [i for i in center.get(sheet.section) or [] if isinstance(i, dict)]
        rows[sheet.name] = [[to_cell(_get(i, c.key)) for c in sheet.columns] for i in items]
        for child in CHILDREN[sheet.name]:
            rows[child.name] = [
                [item.get("name") if c.key == (PARENT,) else to_cell(_get(sub, c.key))
                 for c in child.columns]
                for item in items for sub in item.get(child.section) or []
                if isinstance(sub, dict)]
    return rows


def segment_rows(center: dict[str, Any]) -> list[Row]:
    """One row per segment (a zone without segments: one row with its zone only)."""
    out: list[Row] = []
    for zone in center.get("zones") or []:
        head = [zone.get("name"), zone.get("kind"), _get(zone, ("title", "zh")),
                _get(zone, ("title", "en"))]
        segments = zone.get("segments") or [{}]
        for seg in segments:
            out.append(head + [to_cell(_get(seg, c.key)) for c in SEGMENT_COLUMNS[4:]])
    return out


def center_rows(center: dict[str, Any]) -> list[Row]:
    return [[to_cell(_get(center, c.key)) for c in CENTER_KEYS]]


class _Lists:
    """The hidden sheet the drop-downs point at: one column per list, made on first use
    (the schema's enumerations, and the names of this center's zones and segments)."""

    def __init__(self, sheet: Worksheet):
        self.sheet = sheet
        self.ranges: dict[str, str] = {}

    def range_of(self, title: str, values: list[str]) -> str:
        if title not in self.ranges:
            col = len(self.ranges) + 1
            letter = get_column_letter(col)
            self.sheet.cell(1, col, title).font = _BOLD
            for i, value in enumerate(values, start=2):
                self.sheet.cell(i, col, value)
            last = max(len(values) + 1, 2)
            self.ranges[title] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${last}"
        return self.ranges[title]


def _list_validation(formula: str, choices: list[str], strict: bool) -> DataValidation:
    # A list column (a server's roles) takes several values separated by commas:
    # the drop-down offers them, and the import checks each one.
    return DataValidation(type="list", formula1=formula, allow_blank=True,
                          showErrorMessage=strict, errorTitle="pesdc",
                          error=", ".join(choices)[:255])


def _validation(kind: CellKind, names: list[str] | None, title: str,
                lists: _Lists) -> DataValidation | None:
    """The drop-down of a column: its enumeration, or the center's names it refers to."""
    if kind.enum is not None:
        return _list_validation(lists.range_of(kind.enum.__name__, kind.choices),
                                kind.choices, not kind.is_list)
    if names:
        return _list_validation(lists.range_of(title, names), names, True)
    if kind.scalar is bool:
        return DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True,
                              showErrorMessage=True, errorTitle="pesdc", error="TRUE, FALSE")
    return None


def _names(center: dict[str, Any]) -> dict[str, list[str]]:
    """The names a zone or segment column may hold in this center, in file order."""
    zones = [z for z in center.get("zones") or [] if isinstance(z, dict)]
    return {"zone": [str(z.get("name")) for z in zones],
            "segment": [str(s.get("name")) for z in zones for s in z.get("segments") or []
                        if isinstance(s, dict)]}


def _write_sheet(ws: Worksheet, columns: tuple[Column, ...], kinds: list[CellKind],
                 rows: list[Row], lists: _Lists,
                 names: dict[str, list[str]] | None = None) -> None:
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(1, col, column.header)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(wrap_text=False)
        width = max([len(column.header) + 2] + [len(str(r[col - 1])) for r in rows
                                                if r[col - 1] is not None])
        ws.column_dimensions[get_column_letter(col)].width = min(width + 2, 60)
        refers = (names or {}).get(column.en)
        validation = _validation(kinds[col - 1], refers, column.en + "s", lists)
        if validation is not None:
            ws.add_data_validation(validation)
            letter = get_column_letter(col)
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            if value is not None:
                cell = ws.cell(r, col, value)
                if isinstance(value, str):
                    cell.number_format = "@"  # text stays text ("15", "1.1", "370100")
    ws.freeze_panes = "B2"


def build_workbook(center: dict[str, Any]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    rows = section_rows(center)
    sheets = {s.name: wb.create_sheet(s.name) for s in SHEETS}
    seg_ws = wb.create_sheet(SEGMENTS_SHEET)
    center_ws = wb.create_sheet(CENTER_SHEET)
    lists_ws = wb.create_sheet(LISTS_SHEET)
    lists = _Lists(lists_ws)
    for s in SHEETS:
        _write_sheet(sheets[s.name], s.columns, [s.kind(c) for c in s.columns],
                     rows[s.name], lists, _names(center))
    _write_sheet(seg_ws, SEGMENT_COLUMNS, [segment_kind(c) for c in SEGMENT_COLUMNS],
                 segment_rows(center), lists)
    _write_sheet(center_ws, CENTER_KEYS, [cell_kind(DataCenter, c.key) for c in CENTER_KEYS],
                 center_rows(center), lists)
    lists_ws.sheet_state = "hidden"
    wb.properties.creator = "pesdc"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


def workbook_bytes(wb: Workbook) -> bytes:
    """The XLSX bytes with no clock in them: entries re-zipped with a fixed time."""
    raw = io.BytesIO()
    wb.save(raw)
    # openpyxl stamps "modified" with the clock as it saves: the core part is written
    # again with the fixed time.
    wb.properties.modified = FIXED_TIME
    core = tostring(wb.properties.to_tree())
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = core if info.filename == ARC_CORE else src.read(info.filename)
            dst.writestr(fixed, data)
    return out.getvalue()


def export_ledger(center: dict[str, Any], output: Path) -> None:
    """Write the ledger of one center (its ``datacenter:`` mapping) to ``output``."""
    from pesdc.durable import atomic_write

    atomic_write(output, workbook_bytes(build_workbook(center)), mode=0o644,
                 what="ledger")
