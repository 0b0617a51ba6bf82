"""A cache of validated data centers, so an unchanged center file is not validated again.

An entry is the :class:`~pesdc.model.schema.DataCenter` the loader built from one file
(every item checked, defaults merged, each object stamped with where it was read), as it
was before the tree-wide steps (downlink mirrors, rules) touched it. It lives under
``$XDG_CACHE_HOME/pesdc/validated/``, named by the sha256 of everything the result
depends on: the file's bytes, its display name (the stamps name it), the names and bytes
of the defaults files applied to it in their order, the source of pesdc's ``model`` and
``rules`` packages, and the versions of pesdc, pydantic and Python. A changed file, a
changed defaults file above it or a code change finds no entry and is validated again.

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
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic_core import PydanticUndefined

import pesdc
from pesdc.model import parsecache, schema

#: Bump when an entry changes shape.
FORMAT = 2


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
    out = io.BytesIO()
    _ModelPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(dc)
    return out.getvalue()


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
        dc = _ModelUnpickler(io.BytesIO(blob)).load()
    except Exception:  # any unreadable entry is a missing one
        return None
    return dc if type(dc) is schema.DataCenter else None


def put(name: str, dc: schema.DataCenter) -> None:
    """Store a freshly validated data center (best effort, atomic)."""
    if not parsecache.enabled():
        return
    try:
        blob = _dumps(dc)
    except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return  # not stored: the next run validates it again
    parsecache.store_bytes(folder() / name, blob)
