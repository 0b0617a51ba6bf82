"""The change journal: one JSON line per host per apply (who, when, what, result).

Graded protection wants operations audited (8.1.4.3): the journal lives in the state
directory, is append-only from pesdc's side, and holds no secrets: operation names and results only,
and those redacted (:mod:`pesdc.redact`) since an error may quote what a host printed."""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def record(run: RunResult, center: str, lab: str | None = None) -> int:
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
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
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
    return len(lines)


def read(tail: int | None = None) -> list[dict[str, Any]]:
    path = journal_path()
    if not path.is_file():
        return []
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return rows[-tail:] if tail else rows
