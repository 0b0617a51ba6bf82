"""The NEW rules: why `pesdc new` refuses, each said at the option or file:line to fix.

Messages are marked for translation (N_) and formatted where they are shown, so the
command line prints them in its language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pesdc.i18n import N_

SCAFFOLD_RULES: dict[str, tuple[str, str]] = {
    "NEW001": ("new-parent", "the parent is not a center of the tree one tier up"),
    "NEW002": ("new-name", "the name is not an identifier or a center already has it"),
    "NEW003": ("new-division-code", "the division code is not a GB/T 2260 code of the tier"),
    "NEW004": ("new-division-code-taken", "another center has the division code"),
    "NEW005": ("new-stage", "the stage is not 1, 2 or 3"),
    "NEW006": ("new-no-free-space", "no address block or uplink subnet is free in the tree"),
    "NEW007": ("new-file-exists", "the center file to write exists already"),
    "NEW008": ("new-no-tree", "no tree around the folder or at --tree"),
    "NEW009": ("new-would-not-validate", "the new center would not validate or render; "
               "nothing written"),
}


@dataclass
class Problem:
    """One reason to refuse: ``where`` is an option (``--parent``) or ``file:line:col``."""

    rule: str
    where: str
    message: str  # N_-marked, formatted with params where shown
    hint: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    # A problem of validation relayed (NEW009): its message and hint fill the params
    # ``message`` and ``hint`` in the language shown (a Diagnostic: ``text(lang)``).
    said: Any = None

    def text(self, gettext: Any = None, lang: str = "en") -> tuple[str, str]:
        """The message and hint, translated by ``gettext`` (identity by default); a
        relayed problem's own words in ``lang``."""
        tr = gettext or (lambda s: s)
        params = self.params
        if self.said is not None:
            message, hint = self.said.text(lang)
            params = {**params, "message": message,
                      "hint": hint or tr(params.get("hint", ""))}
        return (tr(self.message).format(**params),
                tr(self.hint).format(**params) if self.hint else "")


class ScaffoldError(Exception):
    """Every problem of one request, found before anything is written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.text()[0] for p in problems))
        self.problems = problems


def problem(rule_id: str, at: str, text: str, fix: str = "", /, **params: Any) -> Problem:
    """A Problem; ``params`` fill the placeholders of ``text`` and ``fix``."""
    return Problem(rule_id, at, text, fix, params)


__all__ = ["N_", "SCAFFOLD_RULES", "Problem", "ScaffoldError", "problem"]
