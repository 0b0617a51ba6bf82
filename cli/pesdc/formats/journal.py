"""``pesdc journal show`` and ``pesdc journal verify`` with ``--format json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pesdc.journal import Verification


def build_show(path: Path, rows: list[dict[str, Any]], tail: int | None) -> dict[str, Any]:
    """The body of ``journal-show``: the entries as written (oldest first), a line that
    is not a whole entry as ``{"unreadable": LINE}``."""
    return {"journal": str(path), "tail": tail, "entries": rows}


def build_verify(res: Verification) -> dict[str, Any]:
    """The body of ``journal-verify``: Verification.as_dict."""
    return res.as_dict()
