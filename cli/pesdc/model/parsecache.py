"""A cache of parsed topology files, so an unchanged file is not parsed again.

An entry is the plain data ``read_yaml`` built from a file that parsed cleanly, under
``$XDG_CACHE_HOME/pesdc/parsed/`` (``~/.cache`` without it). Its name is the sha256 of
the file's bytes, pesdc's version and this cache's format: an edited file, another
pesdc or another format finds no entry and is parsed (and stored) again; nothing is
ever trusted because of a path or a modification time. Files with problems are never
stored: their diagnostics always come from the parser.

Entries are pickles read back by an unpickler that builds nothing but plain data
(dicts, lists, strings, numbers, None and the date/time values YAML timestamps give): a
planted or corrupted entry is no way to run code, and one that does not load is treated
as missing, parsed again and replaced, without a word. Writing is best effort (an
unwritable cache folder only costs the parse next time) and atomic (a temporary file
renamed into place, so a concurrent reader sees the whole entry or none).

``validate --no-cache`` (or ``PESDC_NO_CACHE=1``) parses every file, reading and
writing no entry.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any

import pesdc

#: Bump when the stored data changes shape (or read_yaml's result for the same bytes).
FORMAT = 1
ENV_OFF = "PESDC_NO_CACHE"

_enabled = True


def disable() -> None:
    """No entry is read or written in this process (``--no-cache``)."""
    global _enabled
    _enabled = False


def enabled() -> bool:
    return _enabled and os.environ.get(ENV_OFF, "") in ("", "0")


def folder() -> Path:
    return _folder(os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME"))


@lru_cache(maxsize=8)
def _folder(xdg: str | None, home: str | None) -> Path:
    """The folder for these values of XDG_CACHE_HOME and HOME (a cached run asks a
    thousand times)."""
    base = xdg or str(Path.home() / ".cache")
    return Path(base) / "pesdc" / "parsed"


def key(raw: bytes) -> str:
    """The entry's name for a file of these bytes, read by this pesdc."""
    h = hashlib.sha256()
    h.update(f"pesdc {pesdc.__version__} parsed format {FORMAT}\n".encode())
    h.update(raw)
    return h.hexdigest()


# What an entry may hold besides pickle's own plain types: the values of YAML
# timestamps (datetime.date, datetime.datetime with a timezone).
PLAIN_CLASSES = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "timezone"),
            ("datetime", "timedelta")}


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in PLAIN_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def get(raw: bytes) -> tuple[bool, Any]:
    """(True, data) when an entry for these bytes loads; (False, None) otherwise."""
    if not enabled():
        return False, None
    return get_entry(folder() / key(raw))


def get_entry(path: Path) -> tuple[bool, Any]:
    """(True, data) when the entry at ``path`` loads as plain data; else (False, None)."""
    try:
        blob = path.read_bytes()
        return True, _PlainUnpickler(io.BytesIO(blob)).load()
    except Exception:  # any unreadable entry is a missing one
        return False, None


def put(raw: bytes, data: Any) -> None:
    """Store the data parsed from these bytes (best effort, atomic)."""
    if not enabled():
        return
    store(folder() / key(raw), data)


def store(dest: Path, data: Any) -> bool:
    """``data`` pickled into the cache entry ``dest``, renamed in whole (a reader sees
    no entry or all of it); False when it could not be stored, which costs the next run
    the work again, never a wrong result. No fsync, unlike pesdc.durable.atomic_write: an
    entry lost to a crash is only work to redo, and a cold run writes hundreds."""
    try:
        blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return False
    return store_bytes(dest, blob)


_made: set[Path] = set()  # cache folders this process made or found
_tmp_names = itertools.count()


def store_bytes(dest: Path, blob: bytes) -> bool:
    """The pickled ``blob`` as the cache entry ``dest`` (see ``store``). The temporary
    file is named by this process and a counter, created exclusively (mode 0600, as
    mkstemp's): a cold run of a national tree writes some 1,500 entries."""
    try:
        if dest.parent not in _made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            _made.add(dest.parent)
        tmp = dest.parent / f".tmp-{os.getpid()}-{next(_tmp_names)}-{dest.name[:16]}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError:
        _made.discard(dest.parent)  # removed since: made again next time
        return False
    return True
