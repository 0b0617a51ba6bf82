"""One run at a time per center: a lock file in the state directory.

``$PESDC_STATE_DIR/locks/<center>.lock`` (a lab run: ``<center>.lab-<name>.lock``, so
that a lab and production, or two labs of one center, never block each other) is held
with ``flock(LOCK_EX | LOCK_NB)`` for the whole run. The kernel releases a flock when
its holder dies, so a crashed run never blocks the next one; the description the holder
writes into the file (user, host, pid, since when, command) is informational: a second
run that finds the lock taken refuses at once and names the holder from it.

``pesdc apply`` holds it; ``pesdc net apply`` can take the same lock through
:func:`center_lock` (``action="net apply"``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

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
