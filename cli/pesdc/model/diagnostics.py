"""Problems found in a topology, each pointing at a file, line and column.

A Diagnostic is what every stage (load, schema, rules) reports. It carries the YAML
path rather than a line: the line is looked up once, at the end, and only for the
files that have problems, so a clean national tree never pays for line tracking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

YamlPath = tuple[Any, ...]


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

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.severity.value} {self.rule}: {self.message}"
        if self.dotted_path:
            text += f" (at {self.dotted_path})"
        if self.hint:
            text += f"\n    hint: {self.hint}"
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
        return json.dumps(
            {
                "ok": self.ok,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "diagnostics": [d.as_dict() for d in self.sorted()],
            },
            ensure_ascii=False,
            indent=2,
        )
