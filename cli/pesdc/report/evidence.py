"""Reading a results folder: one sub-folder per center, named as the center.

    RESULTS_DIR/CENTER/audit.json   `pesdc audit TOPO --dc CENTER --format json -o ...`
    RESULTS_DIR/CENTER/verify.xml   `pesdc verify TOPO --dc CENTER --lab|--live ... --junit ...`

The age of a piece of evidence is its file's modification time (verify's JUnit carries no
date; the audit's ``date`` is its --today, which may be set by hand). Every problem is
collected, each with its file, so that one run names them all."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

# The audit JSON's format this roll-up reads (pesdc.audit.report.FORMAT_VERSION); a file
# without the field predates it and has the same shape.
AUDIT_FORMAT = 1
AUDIT_FILE, VERIFY_FILE = "audit.json", "verify.xml"
HIGH = ("critical", "high")
NOT_MET = ("fail", "partial", "error")


@dataclass
class Problem:
    file: str
    kind: str  # unreadable, shape, format-version, unknown-center, wrong-center
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind}: {self.what}"


@dataclass
class Finding:
    rule: str
    severity: str
    status: str


@dataclass
class Audit:
    file: str
    mtime: float
    overall: float | None
    counts: dict[str, int]
    high: list[Finding]  # high and critical rules not met (after waivers)


@dataclass
class Verify:
    file: str
    mtime: float
    tests: int
    failures: int
    errors: int
    skipped: int

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    @property
    def state(self) -> str:
        """error before fail: a check that could not run is never a pass. No check at all
        is no evidence either."""
        if self.errors:
            return "error"
        if self.failures:
            return "fail"
        return "pass" if self.passed else "error"


@dataclass
class Evidence:
    audit: dict[str, Audit] = field(default_factory=dict)
    verify: dict[str, Verify] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_results(root: Path, centers: set[str]) -> Evidence:
    ev = Evidence()
    if not root.is_dir():
        ev.problems.append(Problem(str(root), "unreadable", "not a folder of results"))
        return ev
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        files = [sub / AUDIT_FILE, sub / VERIFY_FILE]
        present = [f for f in files if f.is_file()]
        if present and sub.name not in centers:
            ev.problems.extend(Problem(str(f), "unknown-center", f"{sub.name} is not a "
                                       "center of the tree: check the folder's name or "
                                       "--tree") for f in present)
            continue
        if files[0].is_file():
            _add(ev, ev.audit, sub.name, read_audit(files[0], sub.name))
        if files[1].is_file():
            _add(ev, ev.verify, sub.name, read_verify(files[1], sub.name))
    return ev


def _add(ev: Evidence, into: dict[str, Any], name: str, got: Any) -> None:
    if isinstance(got, Problem):
        ev.problems.append(got)
    else:
        into[name] = got


def read_audit(path: Path, center: str) -> Audit | Problem:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Problem(str(path), "unreadable", f"not JSON ({exc}); write it again with "
                       "pesdc audit --format json")
    if not isinstance(data, dict) or not {"dc", "overall", "counts", "rules"} <= data.keys():
        return Problem(str(path), "shape", "not the output of pesdc audit --format json "
                       "(for one center; --all writes a summary without findings)")
    version = data.get("format_version", AUDIT_FORMAT)
    if version != AUDIT_FORMAT:
        return Problem(str(path), "format-version", f"written in format {version}, this "
                       f"pesdc reads {AUDIT_FORMAT}: audit again with this pesdc")
    if data["dc"] != center:
        return Problem(str(path), "wrong-center", f"the audit of {data['dc']} in the folder "
                       f"of {center}: move it to {data['dc']}/")
    try:
        high = [Finding(r["rule"], r["severity"], r["effective"])
                for r in data["rules"].values()
                if r["severity"] in HIGH and r["effective"] in NOT_MET]
    except (AttributeError, KeyError, TypeError) as exc:
        return Problem(str(path), "shape", f"rules unreadable ({exc!r})")
    return Audit(str(path), path.stat().st_mtime, data["overall"], data["counts"],
                 sorted(high, key=lambda f: (HIGH.index(f.severity), f.rule)))


def read_verify(path: Path, center: str) -> Verify | Problem:
    try:
        root = ET.fromstring(path.read_bytes())
    except (OSError, ET.ParseError) as exc:
        return Problem(str(path), "unreadable", f"not XML ({exc}); write it again with "
                       "pesdc verify --junit")
    name = root.get("name", "")
    if root.tag != "testsuites" or not name.startswith("pesdc verify "):
        return Problem(str(path), "shape", "not the JUnit of pesdc verify --junit")
    if name.removeprefix("pesdc verify ") != center:
        return Problem(str(path), "wrong-center", f"{name} in the folder of {center}")
    try:
        n = {k: int(root.get(k, "")) for k in ("tests", "failures", "errors", "skipped")}
    except ValueError:
        return Problem(str(path), "shape", "counts missing from <testsuites>")
    return Verify(str(path), path.stat().st_mtime, **n)


def age_days(mtime: float, now: float | None = None) -> float:
    return round(((now if now is not None else time.time()) - mtime) / 86400, 1)
