"""Cell values to and from topology values, and the problems an import points at.

A problem of a ledger is named as a spreadsheet user finds it, ``FILE:SHEET!ROW:COLUMN``
(``ledger.xlsx:servers!7:C``). Its text is an English template marked for the catalog
(``N_``) with named fields, so the command line shows it in its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pesdc.ledger.columns import SHEETS, CellKind
from pesdc.model.diagnostics import Diagnostic, localized

TRUE = {"true", "yes", "y", "1", "是", "对", "✓"}
FALSE = {"false", "no", "n", "0", "否", "错", "✗"}
LIST_SPLIT = re.compile(r"[,，;；\s]+")
SHEET_ORDER = ("", *(s.name for s in SHEETS))  # "": the workbook itself


@dataclass
class CellError:
    """One problem at a cell (column empty: the whole row; row 0: the whole sheet)."""

    file: str
    sheet: str
    row: int
    column: str
    message: str  # an N_ template (a loader's problem: its template and its args)
    hint: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    rule: str = "LEDGER"

    def where(self) -> str:
        if not self.sheet:
            return self.file
        at = f"{self.file}:{self.sheet}"
        if self.row:
            at += f"!{self.row}"
            if self.column:
                at += f":{self.column}"
        return at

    def sort_key(self) -> tuple[int, str, int, int, str]:
        """Sheets in the workbook's order, then rows, then columns (B before AA)."""
        order = SHEET_ORDER.index(self.sheet) if self.sheet in SHEET_ORDER else 0
        return (order, self.sheet, self.row, len(self.column), self.column)

    def format(self, lang: str = "en") -> str:
        """As pesdc validate shows a problem, the place being the cell."""
        args = self.params or None
        text = localized(lang, self.message, args)
        hint = localized(lang, self.hint, args) if self.hint else ""
        return Diagnostic(self.rule, text, self.where(), (), hint).format(lang)


def to_cell(value: Any) -> Any:
    """A topology value as a cell holds it: lists joined by commas, the rest as is."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _number(value: Any, scalar: type) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if scalar is int and isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text  # not a number: the schema check names the cell
    return int(number) if scalar is int and number.is_integer() else number


def _flag(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return str(value)  # neither: the schema check says a yes/no is wanted


def _text(value: Any) -> str:
    """A cell as text: a number a spreadsheet made of a name ("15", "1.1") back as typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if isinstance(value, str) else str(value)


def from_cell(value: Any, kind: CellKind) -> Any:
    """A cell as the topology value of its column (None: the cell is empty). A value
    that is not of the column's type is kept as given: the model's check reports it at
    the cell, in the same words as for a YAML file."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind.is_list:
        parts = [p for p in LIST_SPLIT.split(_text(value)) if p]
        return [_convert(p, kind.scalar) for p in parts]
    return _convert(value, kind.scalar)


def _convert(value: Any, scalar: type) -> Any:
    if scalar is bool:
        return _flag(value)
    if scalar in (int, float):
        return _number(value, scalar)
    return _text(value)
