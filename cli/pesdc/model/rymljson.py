"""The plainest topology files, parsed by rapidyaml (C++) and read back as JSON.

A national tree is 370 files and 11 MB of block and flow YAML. Building its data from
libyaml's events (``fastyaml``) costs a Python step per event, 1.6 s; rapidyaml parses
the same text in 0.2 s, emits it as JSON in 0.1 s, and the standard library's C JSON
decoder builds the Python data in 0.2 s. What the JSON does not keep is how each
scalar was written, and PyYAML's YAML 1.1 reads a plain ``yes``, ``010`` or ``1_000``
as a bool or an int where rapidyaml's JSON has a string. So this path answers only
where the two readings provably agree, and raises :class:`NotPlain` everywhere else
(the caller then builds the file from libyaml's events, or the full loader reports the
problem with its line):

* the text holds nothing rapidyaml reads differently or more leniently than libyaml:
  no tab, control character, backslash escape, anchor, alias, tag, directive,
  document marker, block scalar, complex key, or a plain scalar starting with ``@``
  or a backquote (which libyaml refuses) (``_UNSURE``);
* it is one mapping;
* every JSON string that PyYAML could read as something other than a string, were it
  plain (``_MAYBE_NOT_STR``, a superset checked against PyYAML's own resolvers in
  the tests), is either a key that PyYAML reads as a string, or a value that rapidyaml
  would have emitted bare had it been plain: a JSON string there means it was quoted;
* every JSON number is one PyYAML reads as the same number (ints: JSON's integer
  grammar is PyYAML's decimal one; floats are resolved again from their text, and
  ``-0.5``, which rapidyaml also writes for a plain ``-.5``, text to YAML 1.1, is
  left alone);
* no mapping repeats a key.

rapidyaml reports a parse or emit error on standard error itself, as well as raising;
the error is libyaml's to report (with its line, in the user's language), so file
descriptor 2 points at /dev/null while rapidyaml works.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from pesdc.model.fastyaml import NotPlain

try:
    import ryml
except ImportError:  # pragma: no cover - rapidyaml is a dependency; without it, events
    ryml = None

# What rapidyaml reads differently from libyaml, or accepts where libyaml refuses:
# a tab or another control character (libyaml refuses tabs in indentation, rapidyaml
# takes `a:<TAB>b` as one plain scalar), a backslash (double-quoted escapes), the
# indicators of anchors, aliases, tags and directives (& * ! %), the reserved @ and
# backquote (bytes: deleted by ``_UNSURE_BYTES`` from every other byte, which is C's
# speed), document markers, block scalars (| or > starting a value), complex keys
# (? followed by a space).
_UNSURE_BYTES = bytes(sorted(set(range(256)) - {*range(0x00, 0x0a), *range(0x0b, 0x20),
                                                 *b"\x7f&*!%\\@`"}))
# ... and a ':' starting a scalar (`[:0]`, `a: :x`) or ending one in a flow (`[E:]`), a
# flow indicator starting one (`a: ]`): plain text to rapidyaml, an error to libyaml.
# Looked for in the text with [ for [ and {, ] for ] and }, a space for a line break
# (``_FOLD``): nine searches instead of sixteen.
_FOLD = bytes.maketrans(b"{}\n", b"[] ")
_UNSURE_TEXT = (b"---", b"...", b"[:", b",:", b" :", b":,", b":]", b" ]", b" ,")
_UNSURE_START = (b":", b"]", b"}", b",")
_INDICATOR = re.compile(rb"[|>]")
_COMPLEX_KEY = re.compile(rb"\?(?:[ \n]|\Z)")
# Line breaks YAML knows besides \n (NEL, LS, PS): lines would be counted differently.
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")

# A JSON string (quotes included, so never part of a longer string: the content has no
# quote or backslash) whose content PyYAML might resolve to a bool, int, float, null,
# timestamp, merge or value when plain; then, whether it is a key. A superset of
# PyYAML's implicit resolvers (tests/model/test_rymljson.py holds it to them): what
# matches is looked at in Python, what does not is surely a string both ways.
_MAYBE_NOT_STR = re.compile(
    r'"(?=[-+.0-9yYnNtTfFoO~<="])'  # the first character, so most strings fail at once
    r'(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF'
    r'|~|null|Null|NULL|<<|=|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)'
    # numbers and timestamps: a digit, at most one dot (so never an IPv4 address)
    r'|[-+]?(?:\.[0-9][-+0-9eE_]*'
    r'|[0-9][-+0-9a-fA-FxXoObB_:tTzZ ]*(?:\.[-+0-9eE_:tTzZ ]*)?)|)"(\s*:)?')


def _unsure(raw: bytes) -> bool:
    folded = raw.translate(_FOLD)
    return bool(raw.translate(None, _UNSURE_BYTES)) or raw.startswith(_UNSURE_START) \
        or any(t in folded for t in _UNSURE_TEXT) \
        or _COMPLEX_KEY.search(raw) is not None or _block_scalar(raw)


def _block_scalar(raw: bytes) -> bool:
    """Whether a | or > may start a block scalar: first on its line, or after ': ' or
    '- ' (not "a->b"). One regex finds the few candidates, at C's speed; a lookbehind
    alternation in the regex itself costs 25 times more."""
    for m in _INDICATOR.finditer(raw):
        before = raw[max(0, m.start() - 64):m.start()]
        spaced = before.rstrip(b" ")
        if not spaced or spaced.endswith(b"\n") or \
                (len(spaced) < len(before) and spaced.endswith((b":", b"-"))):
            return True
    return False


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Standard error (the descriptor, as C++ writes to it) silenced meanwhile; left as
    it is when it cannot be (no descriptor 2 at all, say)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=4096)
def _emitted_bare(text: str) -> bool:
    """Whether rapidyaml writes the plain scalar ``text`` as a bare JSON token (a
    number, true, false, null): then a JSON string of it was quoted in the YAML."""
    try:
        with _quiet_stderr():
            emitted = ryml.emit_json(ryml.parse_in_arena(b"k: " + text.encode()))
        return not emitted.rstrip().rstrip("}").rstrip().endswith('"')
    except Exception:
        return False


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise NotPlain("duplicate key")
    return out


def _no_constant(name: str) -> Any:
    raise NotPlain(name)  # NaN, Infinity: not JSON rapidyaml writes for YAML


class Reader:
    """Reads one file's text; ``scalar`` is how the full loader resolves a plain scalar
    (``fastyaml.Plain.scalar``)."""

    def __init__(self, scalar: Callable[[str], Any]) -> None:
        self._resolve = scalar
        self._decoder = json.JSONDecoder(parse_float=self._float, parse_constant=_no_constant,
                                         object_pairs_hook=_unique_pairs)

    def _scalar(self, text: str) -> Any:
        try:
            return self._resolve(text)
        except ValueError as exc:  # PyYAML's own constructor fails on it (0b_): its error
            raise NotPlain("scalar") from exc

    def _float(self, text: str) -> float:
        if text.startswith("-0."):  # rapidyaml writes a plain -.5 as -0.5: text to YAML 1.1
            raise NotPlain("number")
        value = self._scalar(text)
        if type(value) is not float:  # e.g. 1e5, a string to YAML 1.1
            raise NotPlain("number")
        return value

    def load(self, text: str) -> Any:
        """The data of ``text``, or NotPlain."""
        if ryml is None:
            raise NotPlain("no rapidyaml")
        raw = text.encode()
        if not raw.strip() or _unsure(raw) or any(b in text for b in _OTHER_BREAKS):
            raise NotPlain("unsure")
        try:
            with _quiet_stderr():  # both write their errors there
                emitted = ryml.emit_json(ryml.parse_in_arena(raw))
        except Exception as exc:  # the full loader says what is wrong
            raise NotPlain("rapidyaml") from exc
        if not emitted:  # comments only: no document
            raise NotPlain("empty")
        self._check_strings(emitted)
        try:
            data = self._decoder.decode(emitted)
        except ValueError as exc:  # e.g. +1, which rapidyaml writes bare
            raise NotPlain("json") from exc
        if type(data) is not dict:
            raise NotPlain("not a mapping")
        return data

    def _check_strings(self, emitted: str) -> None:
        scalar = self._scalar
        for m in _MAYBE_NOT_STR.finditer(emitted):
            text = m.group(1)
            if type(scalar(text)) is str:
                continue
            if m.group(2) or not _emitted_bare(text):
                raise NotPlain("a scalar YAML 1.1 may read as other than text")
