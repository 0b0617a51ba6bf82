"""One run at a time per center: a lock file in the state directory.

``$PESDC_STATE_DIR/locks/<center>.lock`` (a lab run: ``<center>.lab-<name>.lock``, so
that a lab and production, or two labs of one center, never block each other) is held
with ``flock(LOCK_EX | LOCK_NB)`` for the whole run. The kernel releases a flock when
its holder dies, so a crashed run never blocks the next one; the description the holder
writes into the file (user, host, pid, since when, command) is informational: a second
run that finds the lock taken refuses at once and names the holder from it.

``pesdc apply`` holds it; ``pesdc net apply`` can take the same lock through
:func:`center_lock` (``action="net apply"``). A local flock cannot go stale: the kernel
frees it when its holder exits, whatever the reason.

A live run (``--live``) is one operator among several, each on their own machine: their
common ground is the center's bastion, which every connection goes through. Its lock is
there (:func:`bastion_lock`): ``mkdir /var/lib/pesdc-lock/<center>`` over the run's
multiplexed bastion connection (``target.bastion_argv``), atomic on any POSIX file
system, with the holder's description (``holder.json``: user, host, pid, since, command,
a random token) inside. A second run's ``mkdir`` fails: it refuses, naming the holder. The
holder touches ``holder.json`` every :data:`HEARTBEAT` seconds; a lock not touched for
:data:`STALE_AFTER` seconds is stale (its holder died, or lost the bastion), which
``pesdc lock status`` says and ``pesdc lock break --reason TEXT`` clears (journaled).
Release removes the directory only while the token in it is still the run's own.

Why ``/var/lib/pesdc-lock``: persistent (a bastion reboot in the middle of a run leaves
the lock for an operator to look at, not silently gone as in ``/run``), outside any
one account's home (every operator's bastion account must see the same lock), and not
``/tmp`` (whose sticky bit would stop one operator from breaking another's stale lock).
The directory is created mode 0777 when the bastion account may (root); otherwise it
must exist: ``install -d -m 0777 /var/lib/pesdc-lock`` once on the bastion.
``PESDC_BASTION_LOCK_DIR`` names another directory (tests).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pesdc.durable import StateWriteError
from pesdc.lab.paths import state_dir


@dataclass(frozen=True)
class Holder:
    """Who holds a center: what the lock file says."""

    user: str
    sudo_user: str | None
    host: str
    pid: int
    since: str  # UTC, ISO 8601
    command: str
    action: str = "apply"

    def describe(self) -> str:
        who = self.user + (f" (sudo by {self.sudo_user})" if self.sudo_user else "")
        age = ""
        try:
            started = datetime.strptime(self.since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            age = f" ({int((datetime.now(UTC) - started).total_seconds())} s ago)"
        except ValueError:
            pass
        alive = "" if self.host != socket.gethostname() or _alive(self.pid) else \
            " (that pid is gone: the lock is held by a process it left running)"
        return (f"user {who} on host {self.host}, pid {self.pid}{alive}, "
                f"since {self.since}{age}, command: {self.command}")

    def describe_remote(self) -> str:
        """As :meth:`describe`, for a holder on another machine (its pid not checked)."""
        who = self.user + (f" (sudo by {self.sudo_user})" if self.sudo_user else "")
        return (f"user {who} on host {self.host}, pid {self.pid}, since {self.since}, "
                f"command: {self.command}")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class CenterBusy(Exception):
    """Another run holds the center."""

    def __init__(self, center: str, lab: str | None, path: Path, holder: Holder | None):
        self.center, self.lab, self.path, self.holder = center, lab, path, holder
        where = f"center {center}" + (f" (lab {lab})" if lab else "")
        who = holder.describe() if holder else \
            "a process that has not written its description (yet)"
        super().__init__(f"{where} is held by another run: {who}; lock file {path}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path(center: str, lab: str | None = None) -> Path:
    return state_dir() / "locks" / (f"{center}.lab-{lab}.lock" if lab else f"{center}.lock")


def me(action: str, argv: list[str] | None = None) -> Holder:
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    args = list(sys.argv[1:] if argv is None else argv)
    from pesdc.redact import redact
    return Holder(user=user, sudo_user=os.environ.get("SUDO_USER"), host=socket.gethostname(),
                  pid=os.getpid(), since=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  command=redact(shlex.join(["pesdc", *args])), action=action)


def read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(**{k: data[k] for k in Holder.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None


@contextmanager
def center_lock(center: str, lab: str | None = None, action: str = "apply",
                argv: list[str] | None = None) -> Iterator[Holder]:
    """Hold the center for the block, or raise :class:`CenterBusy` at once.

    Raises :class:`pesdc.durable.StateWriteError` when the state directory cannot hold
    the lock or its description (a full disk): a run that could not even record who
    holds the center would not be able to write its journal either, so it must not
    start."""
    path = lock_path(center, lab)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StateWriteError(path, exc, "the center lock") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise StateWriteError(path, exc, "the center lock") from exc
            holder = None
            for _ in range(10):  # the holder writes its description right after flock
                holder = read_holder(path)
                if holder is not None:
                    break
                time.sleep(0.05)
            raise CenterBusy(center, lab, path, holder) from None
        mine = me(action, argv)
        blob = (json.dumps(mine.as_dict(), ensure_ascii=False) + "\n").encode()
        try:
            os.ftruncate(fd, 0)
            if os.pwrite(fd, blob, 0) != len(blob):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # never a half description
            raise StateWriteError(path, exc, "the center lock's description") from exc
        try:
            yield mine
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # free: no stale description left behind
    finally:
        os.close(fd)  # releases the flock (also when this process dies)


# -- the live center's lock, on its bastion ---------------------------------------------
BASTION_LOCK_DIR = "/var/lib/pesdc-lock"
HEARTBEAT = 30.0  # seconds between the holder's touches of holder.json
STALE_AFTER = 120.0  # no touch for this long: the holder is gone
MARK = "pesdc-lock:"


class BastionLockError(Exception):
    """The bastion could not be asked (unreachable, no lock directory, ...)."""


@dataclass(frozen=True)
class BastionLock:
    """What the bastion holds for a center: the holder (None: free) and its age."""

    center: str
    path: str
    holder: Holder | None
    raw: dict[str, Any] | None
    idle: float | None  # seconds since the holder last touched it
    held: bool

    @property
    def stale(self) -> bool:
        return self.held and (self.idle is None or self.idle > STALE_AFTER)

    def describe(self) -> str:
        if not self.held:
            return f"center {self.center}: free (no lock at {self.path} on the bastion)"
        who = self.holder.describe_remote() if self.holder else \
            "a run that has not written its description (yet)"
        age = "" if self.idle is None else f"; last heartbeat {int(self.idle)} s ago"
        state = (f" — STALE: no heartbeat for more than {int(STALE_AFTER)} s, its holder "
                 "is gone; break it with `pesdc lock break --reason TEXT`") if self.stale \
            else ""
        return f"center {self.center} is held on the bastion by {who}{age}{state}; " \
               f"lock {self.path}"


class BastionBusy(CenterBusy):
    """Another run holds the live center (its lock on the bastion)."""

    def __init__(self, lock: BastionLock):
        self.lock = lock
        Exception.__init__(self, lock.describe())
        self.center, self.lab, self.path, self.holder = lock.center, None, \
            Path(lock.path), lock.holder


def bastion_lock_dir(center: str) -> str:
    root = os.environ.get("PESDC_BASTION_LOCK_DIR", BASTION_LOCK_DIR).rstrip("/") or "/"
    if not center or "/" in center or center.startswith("."):
        raise ValueError(f"not a center name: {center!r}")
    return f"{root}/{center}"


def _run_on_bastion(target: Any, script: str, timeout: float = 30) -> tuple[int, str, str]:
    argv = target.bastion_argv(script)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise BastionLockError(f"the bastion did not answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise BastionLockError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    return p.returncode, p.stdout, p.stderr


def _status_script(d: str) -> str:
    q = shlex.quote(d)
    return (f"D={q}; if [ -d \"$D\" ]; then echo '{MARK} held'; "
            "echo \"now $(date +%s)\"; echo \"mtime $(stat -c %Y \"$D/holder.json\" "
            "2>/dev/null || stat -c %Y \"$D\")\"; cat \"$D/holder.json\" 2>/dev/null; "
            f"else echo '{MARK} free'; fi")


def _parse_status(center: str, d: str, out: str) -> BastionLock:
    lines = out.splitlines()
    if f"{MARK} free" in lines:
        return BastionLock(center, d, None, None, None, False)
    if f"{MARK} held" not in lines:
        raise BastionLockError(f"unexpected answer from the bastion: {out.strip()[:200]!r}")
    now = mtime = None
    raw = None
    for ln in lines:
        if ln.startswith("now "):
            now = _int(ln[4:])
        elif ln.startswith("mtime "):
            mtime = _int(ln[6:])
        elif ln.startswith("{"):
            with contextlib.suppress(ValueError):
                raw = json.loads(ln)
    holder = None
    if isinstance(raw, dict):
        with contextlib.suppress(TypeError, KeyError):
            holder = Holder(**{k: raw[k] for k in Holder.__dataclass_fields__ if k in raw})
    idle = float(now - mtime) if now is not None and mtime is not None else None
    return BastionLock(center, d, holder, raw if isinstance(raw, dict) else None, idle, True)


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def bastion_status(target: Any, center: str) -> BastionLock:
    d = bastion_lock_dir(center)
    rc, out, err = _run_on_bastion(target, _status_script(d))
    if rc != 0:
        raise BastionLockError(f"cannot read the lock {d} on the bastion: "
                               f"{(err.strip().splitlines() or [f'exit {rc}'])[-1]}")
    return _parse_status(center, d, out)


@contextmanager
def bastion_lock(target: Any, center: str, action: str = "apply",
                 argv: list[str] | None = None, heartbeat: float = HEARTBEAT
                 ) -> Iterator[Holder]:
    """Hold a live center on its bastion for the block, or raise :class:`BastionBusy`
    at once (:class:`BastionLockError`: the bastion could not be asked; nothing ran)."""
    d = bastion_lock_dir(center)
    root = d.rsplit("/", 1)[0] or "/"
    mine = me(action, argv)
    token = secrets.token_hex(16)
    blob = json.dumps({**mine.as_dict(), "token": token, "center": center,
                       "target": str(getattr(target, "label", ""))}, ensure_ascii=False)
    qd, qr = shlex.quote(d), shlex.quote(root)
    take = (f"R={qr}; D={qd}; [ -d \"$R\" ] || mkdir -m 0777 \"$R\" 2>/dev/null || "
            f"{{ echo '{MARK} noroot'; exit 0; }}; "
            f"if mkdir -m 0777 \"$D\" 2>/dev/null; then "
            f"printf '%s\\n' {shlex.quote(blob)} > \"$D/holder.json.tmp\" && "
            f"mv -f \"$D/holder.json.tmp\" \"$D/holder.json\" && echo '{MARK} taken' || "
            f"{{ rm -rf \"$D\"; echo '{MARK} nowrite'; }}; "
            f"elif [ -d \"$D\" ]; then echo '{MARK} busy'; "
            f"else echo '{MARK} nomkdir'; fi")
    rc, out, err = _run_on_bastion(target, take)
    if rc != 0:
        raise BastionLockError(f"cannot take the lock {d} on the bastion: "
                               f"{(err.strip().splitlines() or [f'exit {rc}'])[-1]}")
    if f"{MARK} noroot" in out:
        raise BastionLockError(f"the bastion has no lock directory {root} and this account "
                               f"cannot create it: create it once on the bastion (as root: "
                               f"install -d -m 0777 {root})")
    if f"{MARK} nowrite" in out or f"{MARK} nomkdir" in out:
        raise BastionLockError(f"cannot create the lock {d} on the bastion (permissions of "
                               f"{root}: it must be writable by every operator's account)")
    if f"{MARK} busy" in out:
        state = None
        for _ in range(10):  # the holder writes its description right after mkdir
            state = bastion_status(target, center)
            if not state.held or state.holder is not None:
                break
            time.sleep(0.1)
        if state is None or not state.held:  # released meanwhile
            state = BastionLock(center, d, None, None, None, True)
        raise BastionBusy(state)
    if f"{MARK} taken" not in out:
        raise BastionLockError(f"unexpected answer from the bastion: {out.strip()[:200]!r}")
    owned = f"grep -qF {shlex.quote(token)} \"$D/holder.json\" 2>/dev/null"
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat):
            with contextlib.suppress(BastionLockError):
                _run_on_bastion(target, f"D={qd}; {owned} && touch \"$D/holder.json\"")

    pulse = threading.Thread(target=beat, name="pesdc-lock-heartbeat", daemon=True)
    pulse.start()
    try:
        yield mine
    finally:
        stop.set()
        pulse.join(timeout=5)
        with contextlib.suppress(BastionLockError):  # a lost bastion: the lock goes stale
            _run_on_bastion(target, f"D={qd}; if {owned}; then rm -f \"$D/holder.json\"; "
                                    "rmdir \"$D\"; fi")


def bastion_break(target: Any, center: str) -> BastionLock:
    """Remove the center's lock on the bastion, whoever holds it; what it was."""
    state = bastion_status(target, center)
    if not state.held:
        return state
    qd = shlex.quote(state.path)
    rc, _out, err = _run_on_bastion(target, f"D={qd}; rm -f \"$D/holder.json\" "
                                            "\"$D/holder.json.tmp\" && rmdir \"$D\"")
    if rc != 0:
        raise BastionLockError(f"cannot remove the lock {state.path} on the bastion: "
                               f"{(err.strip().splitlines() or [f'exit {rc}'])[-1]}")
    return state


def local_status(center: str, lab: str | None = None) -> tuple[Path, Holder | None, bool]:
    """The local lock: (its file, the holder's description, held now). The kernel frees
    a flock when its holder exits, so a held local lock has a live holder."""
    path = lock_path(center, lab)
    if not path.is_file():
        return path, None, False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return path, None, False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return path, read_holder(path), True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return path, None, False
    finally:
        os.close(fd)
