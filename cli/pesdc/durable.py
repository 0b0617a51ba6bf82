"""Files in pesdc's state directory that are never left half-written.

Two ways of writing, both safe against a full disk and a process killed mid-write:

- :func:`atomic_write` replaces (or creates) a whole file: the bytes go to a temporary
  file in the same directory, are fsync'ed, and the temporary file is renamed over the
  target (rename is atomic within one file system), then the directory is fsync'ed. A
  reader sees the old file or the new one, never a part; on any error the temporary
  file is removed and the old file is untouched.
- :func:`append_durable` appends records to a log (the change journal): under an
  exclusive ``flock`` on the file, the records are written and fsync'ed; if the write
  fails part way (ENOSPC after a short write), the file is truncated back to its size
  before the append, so it never ends in a partial record.

Both raise :class:`StateWriteError`, which names the file, the cause and, for a full
file system, how much room is left: ``pesdc`` commands show it and exit non-zero.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
from pathlib import Path

FULL = (errno.ENOSPC, errno.EDQUOT)


class StateWriteError(Exception):
    """A state file could not be written; nothing partial was left behind."""

    def __init__(self, path: Path, cause: OSError, what: str = "") -> None:
        self.path = path
        self.cause = cause
        self.errno = cause.errno
        self.full = cause.errno in FULL
        why = cause.strerror or str(cause)
        msg = f"cannot write {what + ' ' if what else ''}{path}: {why}"
        if self.full:
            msg += f" (the file system holding it is full: {free_space(path)})"
        super().__init__(msg)


def free_space(path: Path) -> str:
    """``N bytes free of SIZE on MOUNTPOINT`` for the file system holding ``path``."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        st = os.statvfs(p)
    except OSError as exc:
        return f"free space unknown: {exc.strerror}"
    mount = p.resolve()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    return (f"{st.f_bavail * st.f_frsize} bytes free of {st.f_blocks * st.f_frsize} "
            f"on {mount}")


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """The temporary file of an atomic write: hidden, in the same directory, ending in
    ``~`` (skipped by the readers of drop-in directories: sudo, cron, pam-auth-update)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp~")


def atomic_write(path: Path, data: str | bytes, mode: int = 0o600, what: str = "") -> None:
    """Replace ``path`` with ``data`` all at once (see the module docstring)."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise StateWriteError(path, exc, what) from exc
    try:
        try:
            view = memoryview(blob)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fchmod(fd, mode)  # O_CREAT's mode went through the umask
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise StateWriteError(path, exc, what) from exc


def append_durable(path: Path, data: str | bytes, mode: int = 0o644, what: str = "") -> None:
    """Append ``data`` (whole records) to ``path`` all or nothing (module docstring)."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise StateWriteError(path, exc, what) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # other appenders wait: truncating back is safe
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            # A torn last record (a writer killed mid-write before this helper existed,
            # or by SIGKILL between two write calls): keep it, on a line of its own.
            blob = b"\n" + blob
        try:
            view = memoryview(blob)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                pass
            raise StateWriteError(path, exc, what) from exc
    finally:
        os.close(fd)  # also releases the flock
