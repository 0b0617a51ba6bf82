"""Problems found in a topology, each pointing at a file, line and column.

A Diagnostic is what every stage (load, schema, rules) reports. It carries the YAML
path rather than a line: the line is looked up once, at the end, and only for the
files that have problems, so a clean national tree never pays for line tracking.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

YamlPath = tuple[Any, ...]

# What a terminal may act on or a reader may misread: C0 controls (ESC among them), DEL,
# C1 controls (U+0085 NEL and U+009B CSI among them), the line and paragraph separators,
# and the bidirectional overrides and isolates that reorder what is shown.
_BEYOND_C0 = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(rf"[\x00-\x1f{_BEYOND_C0}]")
# In JSON text json.dumps has escaped the C0 controls of every string already; the C0
# characters left are the layout's own newlines.
_UNPRINTABLE_IN_JSON = re.compile(rf"[{_BEYOND_C0}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u2028``),
    for the output layer: file names, keys and values read from a topology may hold them,
    and a terminal must show them, never obey them."""
    return _UNPRINTABLE.sub(_escaped, text)


def printable_json(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with DEL, the C1 controls,
    the separators and the bidirectional controls escaped as ``\\uXXXX``: json.dumps
    escapes the C0 controls only, and these can occur only inside strings, where the
    escape reads back as the same text."""
    return _UNPRINTABLE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(slots=True)
class Diagnostic:
    rule: str
    message: str
    file: str
    path: YamlPath = ()
    hint: str = ""
    severity: Severity = Severity.error
    line: int = 0
    column: int = 0

    @property
    def dotted_path(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.dotted_path,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }

    def one_line(self) -> str:
        """``file:line:column: severity rule: message``, as compilers print a problem
        (editors and CI jump to it), each field escaped (``printable``)."""
        file = printable(self.file)
        where = f"{file}:{self.line}:{self.column}" if self.line else file
        return f"{where}: {self.severity.value} {self.rule}: {printable(self.message)}"

    def format(self) -> str:
        """Two lines for a terminal or a log, each field escaped (``printable``)."""
        text = self.one_line()
        if self.dotted_path:
            text += f" (at {printable(self.dotted_path)})"
        if self.hint:
            text += f"\n    hint: {printable(self.hint)}"
        return text


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)

    def extend(self, diags: list[Diagnostic]) -> None:
        self.diagnostics.extend(diags)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.warning]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=lambda d: (d.file, d.line, d.column, d.rule))

    def to_json(self) -> str:
        text = json.dumps(
            {
                "ok": self.ok,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "diagnostics": [d.as_dict() for d in self.sorted()],
            },
            ensure_ascii=False,
            indent=2,
        )
        return printable_json(text)
