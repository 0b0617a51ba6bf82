"""The change journal: one JSON line per host per apply (who, when, what, result).

Graded protection wants operations audited (8.1.4.3): the journal lives in the state
directory, is append-only from pesdc's side, and holds no secrets: operation names and results only,
and those redacted (:mod:`pesdc.redact`) since an error may quote what a host printed.

An apply's entries are appended all or nothing (:func:`pesdc.durable.append_durable`):
a full disk raises :class:`pesdc.durable.StateWriteError` and leaves the journal as it
was, never with a partial line; the CLI then prints the entries it could not record."""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pesdc.durable import StateWriteError, append_durable
from pesdc.lab.paths import state_dir
from pesdc.redact import Redactor
from pesdc.results import RunResult


def journal_path() -> Path:
    return state_dir() / "journal" / "changes.jsonl"


def who() -> dict[str, str | None]:
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    return {"user": user, "sudo_user": os.environ.get("SUDO_USER"), "uid": str(os.getuid())}


def entries(run: RunResult, center: str, lab: str | None = None) -> list[str]:
    """The journal lines of one run (JSON, redacted), one per host."""
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    redact = Redactor()
    lines = []
    for h in run.hosts:
        lines.append(redact.finished(json.dumps({
            "when": when, "who": who(), "action": run.action, "engine": run.engine,
            "center": center, "lab": lab, "host": redact.known_only(h.host),
            "result": "ok" if h.ok else "failed", "changed": h.changed,
            "changes": [redact(c) for c in h.changes],
            "error": redact(h.error) if h.error else h.error, "seconds": round(h.seconds, 2),
        }, ensure_ascii=False)))
    return lines


def record(run: RunResult, center: str, lab: str | None = None,
           lines: list[str] | None = None) -> int:
    """Append the run's entries; :class:`StateWriteError` when they could not be."""
    path = journal_path()
    lines = entries(run, center, lab) if lines is None else lines
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateWriteError(path, exc, "the journal") from exc
    append_durable(path, "".join(line + "\n" for line in lines), what="the journal")
    return len(lines)


def read(tail: int | None = None) -> list[dict[str, Any]]:
    """The entries, oldest first. A line that is not a whole entry (a journal torn by an
    older pesdc, or edited by hand) is returned as ``{"unreadable": LINE_NUMBER}``
    rather than hidden or fatal."""
    path = journal_path()
    if not path.is_file():
        return []
    rows: list[dict[str, Any]] = []
    for n, x in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not x.strip():
            continue
        try:
            row = json.loads(x)
        except ValueError:
            row = None
        rows.append(row if isinstance(row, dict) else {"unreadable": n})
    return rows[-tail:] if tail else rows
