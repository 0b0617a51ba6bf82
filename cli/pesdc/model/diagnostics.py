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


def N_(message: str) -> str:
    """pesdc.i18n's marker (that module imports the model, so it is not imported here)."""
    return message


AT = N_(" (at {path})")  # the YAML path after a problem's message
HINT = N_("hint: {hint}")  # the label of a problem's hint


@dataclass(frozen=True, slots=True)
class Phrase:
    """A part of a message that is a catalog template of its own (a clause added to a
    message, a value described in words): filled in, and translated, in the language of
    the message it is a value of. Shown as itself, it is the English text."""

    template: str
    args: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return localized("en", self.template, self.args)


class Marked(str):
    """An English text (a ``str``, as it always was) that also carries its catalog
    template and values, for a reader in another language (``text(lang)``)."""

    template: str
    args: dict[str, Any]

    def __new__(cls, template: str, **args: Any) -> Marked:
        made = super().__new__(cls, localized("en", template, args))
        made.template, made.args = template, args
        return made

    def text(self, lang: str = "en") -> str:
        return localized(lang, self.template, self.args)


def localized(lang: str, template: str, args: dict[str, Any] | None = None) -> str:
    """``template`` in ``lang`` (the pesdc catalog), filled with ``args`` when given: a
    message written in English with ``N_`` and translated where it is shown; an argument
    that is a :class:`Phrase` is translated too. A text the catalog does not know is
    shown as it is."""
    if template and lang != "en":
        from pesdc.i18n import translator  # pesdc.i18n imports the model: not at the top

        template = translator(lang).gettext(template)
    if args is None:
        return template
    return template.format(**{k: localized(lang, v.template, v.args)
                              if isinstance(v, Phrase) else v for k, v in args.items()})


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
    # A message marked for translation (Diagnostic.marked): its English templates and the
    # values they are filled with; None for a message written as it is shown.
    args: dict[str, Any] | None = None
    template: str = ""
    hint_template: str = ""

    @classmethod
    def marked(cls, rule: str, template: str, file: str, path: YamlPath = (),
               hint: str = "", severity: Severity = Severity.error,
               **args: Any) -> Diagnostic:
        """A problem whose message and hint are catalog templates (marked ``N_`` where
        written) filled with ``args``: English in ``message``, translated by
        ``format(lang)``."""
        return cls(rule, template.format(**args), file, path, hint.format(**args), severity,
                   args=args, template=template, hint_template=hint)

    def text(self, lang: str = "en") -> tuple[str, str]:
        """The message and the hint in ``lang``."""
        if lang == "en":
            return self.message, self.hint
        if self.args is None:
            return localized(lang, self.message), localized(lang, self.hint)
        return (localized(lang, self.template, self.args),
                localized(lang, self.hint_template, self.args) if self.hint_template else "")

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

    def one_line(self, lang: str = "en") -> str:
        """``file:line:column: severity rule: message``, as compilers print a problem
        (editors and CI jump to it), each field escaped (``printable``). In another
        language only the message is translated: the location, severity and rule stay
        what editors and CI parse."""
        file = printable(self.file)
        where = f"{file}:{self.line}:{self.column}" if self.line else file
        message = self.text(lang)[0]
        return f"{where}: {self.severity.value} {self.rule}: {printable(message)}"

    def format(self, lang: str = "en") -> str:
        """Two lines for a terminal or a log, each field escaped (``printable``)."""
        text = self.one_line(lang)
        hint = self.text(lang)[1]
        if self.dotted_path:
            text += localized(lang, AT, {"path": printable(self.dotted_path)})
        if hint:
            text += "\n    " + localized(lang, HINT, {"hint": printable(hint)})
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
