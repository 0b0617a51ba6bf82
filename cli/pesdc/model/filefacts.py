"""What the loader learnt of a topology file's bytes the first time it read them, so a
center file whose validated model comes from the cache is not parsed (nor its parsed
data read back) at all.

An entry says, of bytes that parsed cleanly and passed the loader's own checks of the
file (a mapping, known top-level keys, a ``defaults:`` block that ``check_defaults``
finds nothing wrong with): which top-level keys the file has, whether its ``defaults:``
is a mapping, and its center's name. It lives under ``$XDG_CACHE_HOME/pesdc/facts/``,
named by the sha256 of the bytes' sha256, pesdc's version, the source of its model and
rules packages (modelcache.code_digest: the checks are code) and this format: other
bytes or another pesdc find no entry. A file
with any problem has no entry: its problems always come from reading it. The loader
parses a file with an entry as soon as it needs its data (its model is not in the
cache, or it is a defaults file). Entries are plain data (the parse cache's unpickler),
one of another shape is a missing one; ``--no-cache`` reads and writes none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pesdc
from pesdc.model import modelcache, parsecache

#: Bump when an entry changes shape or the loader's checks of a file change.
FORMAT = 1


@dataclass(frozen=True)
class Facts:
    keys: tuple[str, ...]  # the file's top-level keys (datacenter, defaults)
    own_defaults: bool  # its defaults: is a mapping
    name: str | None  # its center's name, when it is a string


def folder() -> Path:
    return parsecache.folder().parent / "facts"


def _entry(digest: str) -> Path:
    # The loader's checks of a file are model code: its digest is in the name too.
    h = hashlib.sha256(f"pesdc {pesdc.__version__} facts format {FORMAT} code "
                       f"{modelcache.code_digest()}\n{digest}\n".encode())
    return folder() / h.hexdigest()


def get(digest: str) -> Facts | None:
    """The facts of the bytes whose sha256 is ``digest``, or None."""
    if not parsecache.enabled():
        return None
    ok, data = parsecache.get_entry(_entry(digest))
    if not ok or not isinstance(data, tuple) or len(data) != 3:
        return None
    keys, own, name = data
    if not (isinstance(keys, tuple) and all(isinstance(k, str) for k in keys)
            and type(own) is bool and (name is None or isinstance(name, str))):
        return None
    return Facts(keys, own, name)


def put(digest: str, facts: Facts) -> None:
    if parsecache.enabled():
        parsecache.store(_entry(digest), (facts.keys, facts.own_defaults, facts.name))
