"""Errors whose message is a catalog template (``N_``) filled with values, so that the
command line shows them in its user's language while ``str()`` stays the English text
(logs, JSON, the journal).

``SomeError(N_("lab {name!r} is not up"), name=name)``: ``str(exc)`` is the English
message, ``exc.text("zh")`` the catalog's Chinese one (as :class:`pesdc.model.tree.
CenterError` and :meth:`pesdc.model.diagnostics.Diagnostic.marked` do). A message written
as it is shown (an f-string, a tool's own stderr) is shown as it is in every language.
"""

from __future__ import annotations

from typing import Any

from pesdc.model.diagnostics import localized


class LocalizedError(Exception):
    """An error raised with an ``N_`` template and its values (or a plain message)."""

    def __init__(self, template: str, **args: Any) -> None:
        super().__init__(template.format(**args) if args else template)
        self.template, self.fields = template, (args or None)

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (English: ``str()``)."""
        if lang == "en":
            return str(self)
        return localized(lang, self.template, self.fields)


def error_text(exc: BaseException, lang: str) -> str:
    """The message of any error in ``lang``: a :class:`LocalizedError`'s translated, any
    other's as it is."""
    text = getattr(exc, "text", None)
    if isinstance(exc, LocalizedError) or (callable(text) and hasattr(exc, "template")):
        return str(text(lang))  # type: ignore[misc]
    return str(exc)


class LocalizedText(str):
    """A message kept as its English text (a ``str``: JSON and logs see English) that
    knows its ``N_`` template and values, for :meth:`text` in another language."""

    template: str
    fields: dict[str, Any]

    def __new__(cls, template: str, **args: Any) -> LocalizedText:
        self = super().__new__(cls, template.format(**args) if args else template)
        self.template, self.fields = template, args
        return self

    def text(self, lang: str = "en") -> str:
        return str(self) if lang == "en" else localized(lang, self.template, self.fields)
