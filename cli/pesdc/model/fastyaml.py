"""The common case of a topology file, parsed without PyYAML's Python constructor.

PyYAML's constructor builds a node graph (with marks) and then walks it again in Python,
which is most of a large tree's load time. Topology files are plain block and flow YAML:
no anchors, aliases, tags, merge keys or repeated keys. For those, this module builds the
data straight from libyaml's events (the same C parser the full loader uses, so the
same syntax is accepted) and resolves each plain scalar with the full loader's own
resolver table and constructors: the result is the one ``read_yaml``'s full path gives.

Anything outside that common case raises :class:`NotPlain`, and the caller parses the
file again the full way: an error, an anchor, a duplicate key or a tag is reported by
the one loader that knows how (same message, same line), never guessed at here.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

#: Deeper than this, the full loader decides (it may hit Python's recursion limit,
#: which read_yaml reports as YAML001).
MAX_DEPTH = 200

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


class NotPlain(Exception):  # a signal to the caller, not a failure
    """The file is not in the common case (or not valid): parse it the full way."""


try:
    _Parser: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - only without libyaml: the full way always
    _Parser = type(None)


class Plain:
    """Builds the data of one file; ``resolver`` is the full loader class (its implicit
    resolver table and constructors decide what a plain scalar is)."""

    def __init__(self, resolver: type[yaml.SafeLoader]) -> None:
        table: dict[Any, list[tuple[str, re.Pattern[str]]]] = \
            resolver.yaml_implicit_resolvers
        wild = table.get(None) or []
        self._by_first: dict[str, list[tuple[str, re.Pattern[str]]]] = {
            ch: [*rs, *wild] for ch, rs in table.items() if ch is not None}
        self._wild = wild
        self._constructor = yaml.constructor.SafeConstructor()

    def scalar(self, value: str) -> Any:
        """A plain (unquoted, untagged) scalar as the full loader constructs it."""
        resolvers = self._by_first.get(value[0] if value else "", self._wild)
        tag = _STR
        for t, rx in resolvers:
            if rx.match(value):
                tag = t
                break
        if tag == _STR:
            return value
        if tag == _INT and _PLAIN_INT.match(value):
            return int(value)
        if tag == _NULL:
            return None
        method = self._constructor.yaml_constructors.get(tag)
        if method is None or tag.endswith((":merge", ":value")):
            raise NotPlain(tag)
        return method(self._constructor, yaml.ScalarNode(tag, value))

    def load(self, text: str) -> Any:
        """The one document of ``text``; raises NotPlain (or a yaml error) otherwise."""
        parser = _Parser(text)
        try:
            return self._build(parser.get_event)
        finally:
            parser.dispose()

    def _build(self, get: Any) -> Any:
        if type(get()) is not StreamStartEvent:  # pragma: no cover - libyaml's first
            raise NotPlain("stream")
        e = get()
        if type(e) is StreamEndEvent:
            return None
        if type(e) is not DocumentStartEvent:  # pragma: no cover
            raise NotPlain("document")
        scalar = self.scalar
        # What each plain scalar text resolved to, in this document: keys and most values
        # recur (a tree file is a few thousand items of one shape). Every result is
        # immutable (str, int, float, bool, None, a date or time), so sharing it is safe.
        resolved: dict[str, Any] = {}
        # The containers being filled, innermost last; for a mapping, the key waiting
        # for its value (a sentinel while none is).
        stack: list[Any] = []
        keys: list[Any] = []
        no_key = keys  # a sentinel no key can be
        result: Any = None
        done = False
        # The container being filled (None at the top) and, for a mapping, its pending
        # key: kept in locals, pushed on the stacks when a nested container opens.
        top: Any = None
        key: Any = no_key
        top_is_list = False
        scalar_event, mapping_start, sequence_start = ScalarEvent, MappingStartEvent, \
            SequenceStartEvent
        while True:
            e = get()
            t = type(e)
            if t is scalar_event:
                if e.anchor is not None or e.tag is not None:
                    raise NotPlain("anchor or tag")
                value: Any = e.value
                if e.implicit[0]:
                    if value in resolved:
                        value = resolved[value]
                    else:
                        value = resolved[value] = scalar(value)
                if top_is_list:
                    top.append(value)
                elif key is no_key:
                    if top is None:
                        result = value
                        continue
                    if value in top:
                        raise NotPlain("duplicate key")
                    key = value
                else:
                    top[key] = value
                    key = no_key
                continue
            if t is mapping_start or t is sequence_start:
                if e.anchor is not None or e.tag is not None:
                    raise NotPlain("anchor or tag")
                if len(stack) >= MAX_DEPTH:
                    raise NotPlain("depth")
                value = {} if t is mapping_start else []
                if top is None:
                    result = value
                elif top_is_list:
                    top.append(value)
                elif key is no_key:
                    raise NotPlain("complex key")
                else:
                    top[key] = value
                    key = no_key
                stack.append(top)
                keys.append(key)
                top, key, top_is_list = value, no_key, t is sequence_start
            elif t is MappingEndEvent or t is SequenceEndEvent:
                top, key = stack.pop(), keys.pop()
                top_is_list = type(top) is list
            elif t is DocumentEndEvent:
                done = True
                break
            else:  # an alias: the full loader resolves it
                raise NotPlain(t.__name__)
        if not done or type(get()) is not StreamEndEvent:
            raise NotPlain("more than one document")
        return result
