"""The change journal of pesdc: one JSON line per change, chained, copied to the log server.

Every change pesdc makes is an entry: a server apply (one per host), a device push
(``net apply``, one per device), the rollback of a device (``rollback``, its own entry
beside the push that failed), a stage rehearsal's steps (``stage step``) and the break of
a center lock (``lock break``). Each entry says who (user, sudo user, uid, host), when
(UTC), what target (``lab NAME`` or ``live via bastion NAME (ADDRESS)``), which host or
device, what changed, the result, the error and how long it took. Graded protection wants
operations audited (GB/T 22239-2019 8.1.4.3) and the audit records protected: so

- the journal lives in the state directory, ``journal/changes.jsonl``, and holds no
  secrets: operation names and results only, redacted (:mod:`pesdc.redact`) since an
  error may quote what a host printed;
- each entry carries ``seq`` (1, 2, ...) and ``prev``: the SHA-256 (hex) of the exact
  bytes of the previous entry's line (without its newline; the first entry: 64 zeros).
  ``journal/changes.head`` holds the last entry's seq and hash, rewritten with each
  append. :func:`verify` recomputes the chain and finds an edited, inserted or removed
  entry, an unreadable line and a cut-off tail;
- each entry is also sent to the center's log servers as one RFC 5424 message
  (:mod:`pesdc.syslog5424`), so the record survives the operator's machine.

Appending is all or nothing (:func:`pesdc.durable.append_durable`): a full disk raises
:class:`pesdc.durable.StateWriteError` and leaves the journal as it was. While reading the
last entry and appending, the writer holds an exclusive ``flock`` on the journal's
directory (not on the file itself: :func:`append_durable` takes its own flock on the
file through a second open file description, and two flocks of one process on one file
would wait on each other), so two processes cannot fork the chain.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pesdc.durable import StateWriteError, append_durable, atomic_write
from pesdc.lab.paths import state_dir
from pesdc.redact import Redactor
from pesdc.results import RunResult

ZERO = "0" * 64
HEAD_NAME = "changes.head"


def journal_path() -> Path:
    return state_dir() / "journal" / "changes.jsonl"


def head_path() -> Path:
    return journal_path().with_name(HEAD_NAME)


def digest(line: str | bytes) -> str:
    """The SHA-256 of one journal line (its bytes without the newline)."""
    return hashlib.sha256(line.encode("utf-8") if isinstance(line, str) else line).hexdigest()


def who() -> dict[str, str | None]:
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    return {"user": user, "sudo_user": os.environ.get("SUDO_USER"), "uid": str(os.getuid()),
            "host": socket.gethostname()}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def target_label(target: Any = None, lab: str | None = None) -> str | None:
    """``lab NAME`` or ``live via bastion NAME (ADDRESS)``: what the run worked on."""
    if target is not None:
        return str(target.label)
    return f"lab {lab}" if lab else None


def _lab_of(target: Any, lab: str | None) -> str | None:
    return target.lab if target is not None else lab


def _entry(redact: Redactor, *, action: str, center: str, lab: str | None, target: Any,
           host: str, changes: Sequence[str], result: str, error: str | None,
           seconds: float, when: str | None = None, **extra: Any) -> str:
    body = {"when": when or _now(), "who": who(), "action": action, "center": center,
            "lab": _lab_of(target, lab), "target": target_label(target, lab),
            "host": redact.known_only(host), "changes": [redact(c) for c in changes],
            "result": result, "error": redact(error) if error else error,
            "seconds": round(seconds, 2), **extra}
    return redact.finished(json.dumps(body, ensure_ascii=False))


def _action(run: RunResult) -> str:
    return f"net {run.action}" if run.engine == "netmiko" else run.action


def entries(run: RunResult, center: str, lab: str | None = None,
            target: Any = None) -> list[str]:
    """The journal lines of one run (JSON, redacted, not yet chained: :func:`append`
    gives them ``seq`` and ``prev``): one per host; a device that was rolled back (or
    whose rollback was tried and failed) has a ``rollback`` entry of its own after it."""
    when = _now()
    redact = Redactor()
    lines = []
    for h in run.hosts:
        extra: dict[str, Any] = {"engine": run.engine, "changed": h.changed}
        state = h.details.get("state")
        if state:
            extra["state"] = state
        lines.append(_entry(redact, action=_action(run), center=center, lab=lab,
                            target=target, host=h.host, changes=h.changes,
                            result="ok" if h.ok else "failed", error=h.error,
                            seconds=h.seconds, when=when, **extra))
        if "rolled_back" in h.details:  # netpush tried a rollback on this device
            done = bool(h.details["rolled_back"])
            what = [f"rolled back: {h.details.get('rollback_method', '?')}"]
            if h.details.get("backup"):
                what.append(f"backup: {h.details['backup']}")
            what += [f"still differs: {x}" for x in h.details.get("rollback_left", [])]
            lines.append(_entry(redact, action="rollback", center=center, lab=lab,
                                target=target, host=h.host, changes=what,
                                result="ok" if done else "failed",
                                error=None if done else h.error, seconds=0.0, when=when,
                                engine=run.engine, changed=len(what) if done else 0,
                                state=state, automatic=True))
    return lines


def step_entry(center: str, lab: str | None, step: str, ok: bool, seconds: float,
               detail: str = "", target: Any = None, stage: str | None = None) -> str:
    """The journal line of one stage step (a rehearsal's: marked with its lab)."""
    return _entry(Redactor(), action="stage step", center=center, lab=lab, target=target,
                  host=center, changes=[f"{stage + ': ' if stage else ''}{step}"],
                  result="ok" if ok else "failed", error=None if ok else detail[:3000],
                  seconds=seconds, detail=detail[:3000] if ok else "")


def lock_break_entry(center: str, lab: str | None, holder: dict[str, Any] | None,
                     reason: str, target: Any = None, lock: str = "") -> str:
    """The journal line of a lock break: whose lock, where, and why it was broken."""
    old = holder or {}
    what = [f"broke the lock {lock}" if lock else "broke the center lock",
            "its holder: " + (", ".join(f"{k} {old[k]}" for k in
                                        ("user", "host", "pid", "since", "command", "action")
                                        if k in old) or "unknown (no description)"),
            f"reason: {reason}"]
    return _entry(Redactor(), action="lock break", center=center, lab=lab, target=target,
                  host=center, changes=what, result="ok", error=None, seconds=0.0,
                  holder=old, reason=reason)


# -- appending -------------------------------------------------------------------------
@dataclass
class Appended:
    """What :func:`append` did: the chained entries (seq, line, hash) and, per log
    server that did not take them, why."""

    entries: list[tuple[int, str, str]] = field(default_factory=list)
    send_errors: list[str] = field(default_factory=list)
    sent_to: list[str] = field(default_factory=list)
    live: bool = False

    def __int__(self) -> int:  # the count, as record() returned before
        return len(self.entries)

    @property
    def must_fail(self) -> bool:
        """A live run whose record did not reach the log server: the command exits 1
        (the change stands, the local entry is written)."""
        return bool(self.send_errors) and self.live


@contextmanager
def _chain_lock(directory: Path) -> Iterator[None]:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise StateWriteError(directory, exc, "the journal") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _last_line(path: Path) -> bytes | None:
    """The last non-blank line of the file (without its newline), read from the end."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            chunk = 65536
            buf = b""
            pos = end
            while pos > 0:
                step = min(chunk, pos)
                pos -= step
                fh.seek(pos)
                buf = fh.read(step) + buf
                lines = [ln for ln in buf.split(b"\n") if ln.strip()]
                # the first piece may be a partial line unless we reached the start
                if len(lines) >= 2 or (pos == 0 and lines):
                    return lines[-1]
            return None
    except FileNotFoundError:
        return None


def _read_head() -> dict[str, Any] | None:
    try:
        data = json.loads(head_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _next_seq(last: bytes | None) -> int:
    if last is None:
        return 1
    try:
        obj = json.loads(last)
        if isinstance(obj, dict) and isinstance(obj.get("seq"), int):
            return int(obj["seq"]) + 1
    except ValueError:
        pass
    head = _read_head()  # a torn or legacy last line: continue from the head if any
    if head and isinstance(head.get("seq"), int):
        return int(head["seq"]) + 1
    return 1


def _chained(body: str, seq: int, prev: str) -> str:
    obj = json.loads(body)
    obj.pop("seq", None)
    obj.pop("prev", None)
    return json.dumps({"seq": seq, "prev": prev, **obj}, ensure_ascii=False)


def append(lines: Sequence[str], target: Any = None, dc: Any = None,
           lab: str | None = None, send: bool = True) -> Appended:
    """Chain and append ``lines`` (from :func:`entries`, :func:`step_entry`, ...), all or
    nothing (:class:`StateWriteError`); then send them to the log servers of ``dc`` (a
    :class:`pesdc.model.schema.DataCenter`; None: not sent) through ``target``."""
    path = journal_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateWriteError(path, exc, "the journal") from exc
    done = Appended(live=bool(target is not None and target.live))
    if not lines:
        return done
    with _chain_lock(path.parent):
        last = _last_line(path)
        seq = _next_seq(last)
        prev = digest(last) if last is not None else ZERO
        out = []
        for body in lines:
            line = _chained(body, seq, prev)
            h = digest(line)
            done.entries.append((seq, line, h))
            out.append(line)
            seq, prev = seq + 1, h
        append_durable(path, "".join(x + "\n" for x in out), what="the journal")
        s, _, h = done.entries[-1]
        try:
            atomic_write(head_path(), json.dumps({"seq": s, "hash": h}) + "\n", mode=0o644,
                         what="the journal's head file")
        except StateWriteError as exc:
            done.send_errors.append(f"journal entries {done.entries[0][0]}-{s} were written "
                                    f"but the head file was not: {exc}")
    if send and dc is not None:
        _send(done, target, dc, lab)
    return done


def record(run: RunResult, center: str, lab: str | None = None,
           lines: list[str] | None = None, target: Any = None, dc: Any = None) -> Appended:
    """Append the run's entries (and send them, with ``dc``); :class:`StateWriteError`
    when they could not be written. ``int(result)`` is the count."""
    lines = entries(run, center, lab, target) if lines is None else lines
    return append(lines, target=target, dc=dc, lab=lab)


def record_step(center: str, lab: str | None, step: str, ok: bool, seconds: float,
                detail: str = "", target: Any = None, dc: Any = None,
                stage: str | None = None) -> Appended:
    return append([step_entry(center, lab, step, ok, seconds, detail, target, stage)],
                  target=target, dc=dc, lab=lab)


# -- the copy on the log server --------------------------------------------------------
def logservers(dc: Any) -> list[tuple[str, str]]:
    """(name, address) of the center's log servers."""
    from pesdc.model.schema import ServerRole
    from pesdc.norms import managers

    names = set(managers(dc, ServerRole.logserver))
    return [(s.name, s.address) for s in dc.servers if s.name in names]


class _LabNamespace:
    """A lab run outside its controller namespace: the socket is opened inside it (a
    relay run with ``ip netns exec``), never from here (this namespace may route out)."""

    def __init__(self, lab: str) -> None:
        self.lab = lab

    def tunnel_argv(self, address: str, port: int) -> list[str] | None:
        from pesdc.lab import netns
        from pesdc.lab.enter import access
        from pesdc.syslog5424 import relay_argv

        return netns.ns_exec(access(self.lab).controller_ns,
                             *relay_argv(sys.executable, address, port))


def _transport(target: Any, lab: str | None) -> Any:
    """How this process reaches the log server; raises ValueError when it must not."""
    from pesdc.lab.enter import inside

    if target is not None and target.live:
        return target
    name = _lab_of(target, lab)
    if not name:
        raise ValueError("neither a lab nor a live target was given: nothing is sent "
                         "from a process that could reach a real network")
    return None if inside(name) else _LabNamespace(name)


def _span(a: int, b: int) -> str:
    return f"journal entry {a} was" if a == b else f"journal entries {a}-{b} were"


def _send(done: Appended, target: Any, dc: Any, lab: str | None) -> None:
    from pesdc.lab.errors import LabError
    from pesdc.syslog5424 import SendError, frames, message, send

    first, last = done.entries[0][0], done.entries[-1][0]
    servers = logservers(dc)
    if not servers:
        done.send_errors.append(f"{_span(first, last)} not sent: center {dc.name} has no "
                                "log server (a server with role logserver)")
        return
    data = frames(message(json.loads(line), line, h) for _, line, h in done.entries)
    try:
        transport = _transport(target, lab)
    except ValueError as exc:
        done.send_errors.append(f"{_span(first, last)} not sent: {exc}")
        return
    timeout = float(getattr(target, "timeout", 10) or 10) + 5
    for name, address in servers:
        try:
            send(data, address, 514, transport, timeout)
            done.sent_to.append(f"{name} ({address})")
        except (SendError, LabError) as exc:
            done.send_errors.append(f"{_span(first, last)} not sent to the log server "
                                    f"{name} ({address}): {exc}")


# -- reading ---------------------------------------------------------------------------
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


# -- verifying -------------------------------------------------------------------------
JOURNAL_RULE = "JNL001"  # the journal's hash chain is not intact (pesdc journal verify)


@dataclass
class Problem:
    line: int | None  # None: the journal as a whole (its head file)
    message: str

    def format(self) -> str:
        return f"journal {self.line}: {self.message}" if self.line else \
            f"journal: {self.message}"

    def one_line(self, path: Path) -> str:
        """``path:line:1: error JNL001: message``, as stage check and validate print a
        problem when not on a terminal (an editor or CI jumps to the line)."""
        from pesdc.model.diagnostics import Diagnostic

        return Diagnostic(JOURNAL_RULE, self.message, str(path), line=self.line or 0,
                          column=1 if self.line else 0).one_line()


@dataclass
class Verification:
    path: Path
    entries: int = 0
    chained: int = 0
    last_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)
    legacy: list[tuple[int, int]] = field(default_factory=list)
    hashes: dict[int, tuple[int, str]] = field(default_factory=dict)  # seq -> (line, hash)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"journal": str(self.path), "intact": self.intact, "entries": self.entries,
                "chained": self.chained, "last_seq": self.last_seq,
                "problems": [{"line": p.line, "message": p.message} for p in self.problems]}


COMPARE = ("compare with the copy on the log server (/var/log/remote/HOST/authpriv.log: "
           "each entry's seq and hash are in its structured data)")


def verify(path: Path | None = None, head: Path | None = None) -> Verification:
    """Recompute the chain of the whole journal (see the module docstring)."""
    path = journal_path() if path is None else path
    head = path.with_name(HEAD_NAME) if head is None else head
    res = Verification(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if head.is_file():
            res.problems.append(Problem(None, f"the journal {path} is missing but its head "
                                        f"file {head} is not: the journal was removed; "
                                        + COMPARE))
        return res
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines and lines[-1].strip():
        res.problems.append(Problem(len(lines), "the last line has no newline: a write "
                                    "was cut off (a crash, or the file was truncated)"))
    prev_line: bytes | None = None
    prev_no = 0
    prev_seq: int | None = None
    legacy_start: int | None = None
    legacy_end = 0
    seen_chained = False

    def close_legacy() -> None:
        nonlocal legacy_start
        if legacy_start is not None:
            res.legacy.append((legacy_start, legacy_end))
            legacy_start = None

    for n, b in enumerate(lines, 1):
        if not b.strip():
            continue
        try:
            obj = json.loads(b)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            close_legacy()
            res.problems.append(Problem(n, "unreadable: not a whole JSON entry (torn by a "
                                        "crash or edited by hand); " + COMPARE))
            prev_line, prev_no, prev_seq = b, n, None
            continue
        res.entries += 1
        if not isinstance(obj.get("seq"), int) or not isinstance(obj.get("prev"), str):
            if seen_chained:
                close_legacy()
                res.problems.append(Problem(n, "an entry without seq/prev among chained "
                                            "entries: inserted by hand (or by a pesdc that "
                                            "does not chain); " + COMPARE))
            else:
                if legacy_start is None:
                    legacy_start = n
                legacy_end = n
            prev_line, prev_no, prev_seq = b, n, None
            continue
        close_legacy()
        seen_chained = True
        res.chained += 1
        seq: int = obj["seq"]
        want = digest(prev_line) if prev_line is not None else ZERO
        chain_ok = obj["prev"] == want
        if prev_seq is not None and seq != prev_seq + 1:
            if seq > prev_seq + 1:
                gone = seq - prev_seq - 1
                res.problems.append(Problem(n, f"seq {seq} follows seq {prev_seq} (line "
                                            f"{prev_no}): {gone} entr"
                                            f"{'y' if gone == 1 else 'ies'} "
                                            f"({prev_seq + 1}{f'-{seq - 1}' if gone > 1 else ''})"
                                            " removed; " + COMPARE))
            else:
                res.problems.append(Problem(n, f"seq {seq} after seq {prev_seq} (line "
                                            f"{prev_no}): an entry was inserted (or entries "
                                            "moved); " + COMPARE))
        elif not chain_ok:
            if prev_line is None:
                res.problems.append(Problem(n, f"the first entry (seq {seq}) does not start "
                                            "the chain (its prev is not 64 zeros): entries "
                                            "before it were removed; " + COMPARE))
            elif prev_seq is not None:
                res.problems.append(Problem(n, f"its prev is not the hash of the entry on "
                                            f"line {prev_no} (seq {prev_seq}): line {prev_no} "
                                            "was edited after it was written (or replaced); "
                                            + COMPARE))
            else:
                res.problems.append(Problem(n, f"its prev is not the hash of line {prev_no} "
                                            "before it; " + COMPARE))
        if prev_line is None and seq != 1 and chain_ok:
            res.problems.append(Problem(n, f"the first entry has seq {seq}, not 1"))
        res.hashes[seq] = (n, digest(b))
        prev_line, prev_no, prev_seq = b, n, seq
        res.last_seq = seq
    close_legacy()
    for a, z in res.legacy:
        res.problems.insert(0, Problem(a, f"unchained legacy entries (lines {a}-{z}): written "
                                       "before pesdc chained its journal, they cannot be "
                                       "checked: this journal is NOT shown intact. Keep "
                                       f"the file as the record of those runs (mv {path} "
                                       f"{path.with_name('changes-legacy.jsonl')}) so that "
                                       "new entries start a chain of their own"))
    _check_head(res, head)
    res.problems.sort(key=lambda p: p.line or sys.maxsize)  # the head's last
    return res


def _check_head(res: Verification, head: Path) -> None:
    if res.chained == 0:
        return
    try:
        data = json.loads(head.read_text(encoding="utf-8"))
        hseq, hhash = int(data["seq"]), str(data["hash"])
    except FileNotFoundError:
        res.problems.append(Problem(None, f"no head file {head}: a cut-off tail cannot be "
                                    "detected (pesdc writes it with each append: it was "
                                    "removed, or this journal was copied without it)"))
        return
    except (OSError, ValueError, KeyError, TypeError):
        res.problems.append(Problem(None, f"the head file {head} is unreadable; " + COMPARE))
        return
    last = res.last_seq or 0
    if hseq > last:
        res.problems.append(Problem(None, f"the journal ends at seq {last} but the head file "
                                    f"says seq {hseq} was written: the tail ({hseq - last} "
                                    "entr" + ("y" if hseq - last == 1 else "ies")
                                    + ") was cut off; " + COMPARE))
    elif hseq in res.hashes and res.hashes[hseq][1] != hhash:
        n = res.hashes[hseq][0]
        res.problems.append(Problem(n, f"the entry seq {hseq} is not what was written (its "
                                    "hash is not the one the head file recorded): edited "
                                    "after it was written; " + COMPARE))
    elif hseq < last:
        res.problems.append(Problem(None, f"the head file says seq {hseq} but the journal "
                                    f"goes on to seq {last}: the head was not rewritten "
                                    "(a failed write) or entries were appended by hand; "
                                    + COMPARE))

