"""A cache of validated data centers, so an unchanged center file is not validated again.

An entry is the :class:`~pesdc.model.schema.DataCenter` the loader built from one file
(every item checked, defaults merged, each object stamped with where it was read), as it
was before the tree-wide steps (downlink mirrors, rules) touched it. It lives under
``$XDG_CACHE_HOME/pesdc/validated/``, named by the sha256 of everything the result
depends on: the file's bytes, its display name (the stamps name it), the names and bytes
of the defaults files applied to it in their order, the source of pesdc's ``model`` and
``rules`` packages, and the versions of pesdc, pydantic and Python. A changed file, a
changed defaults file above it or a code change finds no entry and is validated again.

An entry keeps the center in two pickles of one stream: without ``LAZY_FIELDS`` (its
sites, links, servers, zones, systems, security: four fifths of it), then those fields.
``validate`` (``lazily``) reads the second only when a step reads one of them, which on
an edit of one file is none of the unchanged centers: the tree-wide steps read their
downlinks, uplinks, devices, isolation and databases, and their per-center rules'
problems come from the rule cache. The second pickle is written by the same pickler and
read by the same unpickler as the first, so an object in both parts (a string, a list)
is one object again when read back, as it was when written.

Only a file whose validation found no problem is stored: diagnostics always come from
the schema checks themselves. The tree-wide rules run on every run, cached or not.

Entries are pickles read back by an unpickler that builds nothing but plain data, the
topology model classes of :mod:`pesdc.model.schema` and their enumerations: a planted or
corrupted entry is no way to run code, and one that does not load (or is not a
DataCenter) is treated as missing, validated again and replaced, without a word.
Writing is best effort and atomic, as in :mod:`pesdc.model.parsecache`, whose switch
(``validate --no-cache``, ``PESDC_NO_CACHE=1``) turns this cache off too.
"""

from __future__ import annotations

import enum
import hashlib
import io
import pickle
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic_core import PydanticUndefined

import pesdc
from pesdc.model import parsecache, schema

#: Bump when an entry changes shape.
FORMAT = 4

#: The fields of a center that ``validate``'s steps over the whole tree (the downlink
#: mirrors, the rule cache's keys, the rules of the whole tree on a tree that names no
#: other center's servers) do not read: an entry keeps them in a part of their own, read
#: when first wanted while ``lazy`` is on (most of a center: its sites and links alone
#: are two thirds of a national tree's entries).
LAZY_FIELDS = ("security", "zones", "servers", "systems", "sites", "links")

# On while ``validate`` loads (see ``lazily``): a center read from an entry comes
# without LAZY_FIELDS until one of them is read (schema.DataCenter.__getattr__).
_lazy = False


@contextmanager
def lazily() -> Iterator[None]:
    """Centers read from entries meanwhile leave LAZY_FIELDS unread until wanted. For a
    command whose own reads are attribute reads (no model_dump, no ``__dict__``, no
    comparison of centers before a lazy field is read)."""
    global _lazy
    was, _lazy = _lazy, True
    try:
        yield
    finally:
        _lazy = was


def folder() -> Path:
    return parsecache.folder().parent / "validated"


@cache
def code_digest() -> str:
    """The sha256 of the source of pesdc's model and rules packages (file names and
    bytes, in name order): any edit of the code that validates makes a new key."""
    h = hashlib.sha256()
    root = Path(pesdc.__file__).resolve().parent
    for pkg in ("model", "rules"):
        for f in sorted((root / pkg).glob("*.py")):
            h.update(f"{pkg}/{f.name}\n".encode())
            h.update(f.read_bytes())
            h.update(b"\n")
    return h.hexdigest()


def key(display: str, digest: str, layers: Iterable[tuple[str, str]]) -> str:
    """The entry's name for the center file ``display`` whose bytes have the sha256
    ``digest``, under the defaults files ``layers`` ((display, sha256), as applied)."""
    h = hashlib.sha256()
    h.update(f"pesdc {pesdc.__version__} validated format {FORMAT} pydantic "
             f"{pydantic.VERSION} python {sys.version_info[:3]} code {code_digest()}\n"
             .encode())
    h.update(f"file {display!r} {digest}\n".encode())
    for name, layer_digest in layers:
        h.update(f"defaults {name!r} {layer_digest}\n".encode())
    return h.hexdigest()




_set = object.__setattr__


def _rebuild(cls: type[schema.Strict], values: dict[str, Any], fields_set: set[str],
             private: dict[str, Any] | None) -> schema.Strict:
    """A model object as pydantic's own unpickling makes it (``BaseModel.__setstate__``),
    in one call: its field values, the fields given, no extras, its private state."""
    if not (isinstance(cls, type) and issubclass(cls, schema.Strict)) or \
            type(values) is not dict or type(fields_set) is not set or \
            not (private is None or type(private) is dict):
        raise pickle.UnpicklingError("not a topology model")
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", private)
    return obj


class _ModelPickler(pickle.Pickler):
    """Pickles a model object as ``_rebuild`` and its state: what pydantic's
    ``__getstate__`` says, without a Python call of its own per object (a national tree
    has 140,000)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, schema.Strict) and obj.__pydantic_extra__ is None:
            private = obj.__pydantic_private__
            if private is None or all(v is not PydanticUndefined for v in private.values()):
                return _rebuild, (type(obj), obj.__dict__, obj.__pydantic_fields_set__,
                                  private)
        return NotImplemented


def _dumps(dc: schema.DataCenter) -> bytes:
    """An entry: one stream of two pickles, the center's state without LAZY_FIELDS and
    then those fields, with where the second starts and its CRC. One pickler writes
    both: an object of the second already in the first is written as a reference to it
    (the unpickler that read the first resolves it), not as a copy."""
    values = dc.__dict__
    rest = {k: values[k] for k in LAZY_FIELDS}
    head = {k: v for k, v in values.items() if k not in rest}
    out = io.BytesIO()
    pickler = _ModelPickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    # The center's state, not the center: the unpickler's memo, kept until the second
    # part is read, then holds no reference to the center itself (which would keep the
    # center, and the memo, alive for good: see schema.defer).
    pickler.dump((type(dc), head, dc.__pydantic_fields_set__, dc.__pydantic_private__))
    split = out.tell()
    pickler.dump(rest)
    stream = out.getbuffer()
    return pickle.dumps((bytes(stream), split, zlib.crc32(stream[split:])),
                        protocol=pickle.HIGHEST_PROTOCOL)


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in parsecache.PLAIN_CLASSES:  # plain values, as parsed files
            return super().find_class(module, name)
        if (module, name) == (__name__, "_rebuild"):
            return _rebuild
        if module == schema.__name__:
            found = getattr(schema, name, None)
            if isinstance(found, type) and (issubclass(found, schema.Strict)
                                            or issubclass(found, enum.Enum)):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not topology data")


def get(name: str) -> schema.DataCenter | None:
    """The data center stored under ``name``, or None (off, missing or unusable)."""
    if not parsecache.enabled():
        return None
    try:
        blob = (folder() / name).read_bytes()
        stream, split, crc = _ModelUnpickler(io.BytesIO(blob)).load()
        if type(stream) is not bytes or type(split) is not int or \
                zlib.crc32(memoryview(stream)[split:]) != crc:
            return None  # a damaged part read later would fail where nothing can say so
        reader = io.BytesIO(stream)
        unpickler = _ModelUnpickler(reader)
        dc = _rebuild(*unpickler.load())
        if type(dc) is not schema.DataCenter or reader.tell() != split or \
                any(k in dc.__dict__ for k in LAZY_FIELDS):
            return None
        schema.defer(dc, lambda: _rest(unpickler))
        if not _lazy:
            dc.zones  # noqa: B018 - reads the rest in now
    except Exception:  # any unreadable entry is a missing one
        return None
    return dc


def _rest(unpickler: pickle.Unpickler) -> dict[str, Any]:
    """The second part of an entry, read by the unpickler that read the first."""
    rest = unpickler.load()
    if type(rest) is not dict or set(rest) != set(LAZY_FIELDS):
        raise pickle.UnpicklingError("not a center's fields")
    return rest


def put(name: str, dc: schema.DataCenter) -> None:
    """Store a freshly validated data center (best effort, atomic)."""
    if not parsecache.enabled():
        return
    try:
        blob = _dumps(dc)
    except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return  # not stored: the next run validates it again
    parsecache.store_bytes(folder() / name, blob)
