"""Reading topology YAML: fast when clean, precise when not.

Files are parsed into plain Python data: the plainest files by rapidyaml
(``pesdc.model.rymljson``, only where its reading provably matches libyaml's), the
common case (no anchors, tags, merges or repeated keys) straight from libyaml's events
(``pesdc.model.fastyaml``), anything else, errors included, by the full loader below
(libyaml, CSafeLoader).
Nothing records line numbers on that path; when a problem is found, ``Locator`` parses the one file
again into a node tree and walks the YAML path down to the line and column.

Lines are counted as editors count them: by ``\n`` only. YAML also breaks lines at
U+2028, U+2029, U+0085 and a lone ``\r``, so a mark's own line is wrong after such a
character in a value; every position reported here is recomputed from the mark's
character index over the decoded text (``editor_position``).

Merge keys (``<<: *anchor`` or ``<<: [*a, *b]``) work as YAML 1.1 defines them: keys
written in the mapping override merged ones, and among merged mappings the first wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pesdc.model import parsecache
from pesdc.model.diagnostics import N_, Diagnostic, YamlPath
from pesdc.model.fastyaml import NotPlain, Plain
from pesdc.model.rymljson import Reader

try:  # libyaml is part of Debian's and PyPI's PyYAML builds; fall back if absent.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - only without libyaml
    _BaseLoader = yaml.SafeLoader

MAX_FILE_BYTES = 256 * 1024 * 1024


MERGE = "tag:yaml.org,2002:merge"
Pair = tuple[yaml.Node, yaml.Node]


def editor_position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character ``index``, lines broken at ``\n`` only."""
    index = max(0, min(index, len(text)))
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


class DuplicateKeyError(yaml.MarkedYAMLError):
    """Two equal keys in one mapping: PyYAML would silently keep the last one."""

    def __init__(self, key: Any, first: yaml.Mark, repeat: yaml.Mark) -> None:
        super().__init__(None, first, f"duplicate key {key!r}", repeat)
        self.key = key


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # The pairs each mapping node was written with, kept before flatten_mapping
        # replaces node.value: only written keys may not repeat.
        self._written: dict[int, list[Pair]] = {}
        self._flat: dict[int, list[Pair]] = {}
        self._flattening: set[int] = set()

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        # Most mappings merge nothing: their pairs are checked as written, uncached.
        pairs = self._written_pairs(node) if _merges(node) else node.value
        for key_node, _ in pairs:
            key = "<<" if key_node.tag == MERGE else self._hashable_key(node, key_node)
            if key in seen:
                raise DuplicateKeyError(key, seen[key].start_mark, key_node.start_mark)
            seen[key] = key_node
        # SafeConstructor calls flatten_mapping, then builds the dict in pair order.
        return super().construct_mapping(node, deep=deep)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        # PyYAML's own version lets the later of `<<: [*a, *b]` win when key strings are
        # not interned, and repeats pairs at every level of nested merges (which grows
        # exponentially with nesting); this one follows YAML 1.1 and keeps one pair per key.
        if _merges(node):
            node.value = self._flattened(node)

    def _written_pairs(self, node: yaml.MappingNode) -> list[Pair]:
        return self._written.setdefault(id(node), list(node.value))

    def _flattened(self, node: yaml.MappingNode) -> list[Pair]:
        """The node's pairs with merges resolved, lowest precedence first (the dict keeps
        the last): merged pairs, later merge sources first, then the written pairs."""
        done = self._flat.get(id(node))
        if done is not None:
            return done
        if id(node) in self._flattening:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "the mapping merges itself (<<: names its own anchor)", node.start_mark)
        self._flattening.add(id(node))
        written = self._written_pairs(node)
        own = [pair for pair in written if pair[0].tag != MERGE]
        taken = {_merge_id(k) for k, _ in own}
        merged: list[Pair] = []
        for source in self._merge_sources(node, written):
            for pair in reversed(self._flattened(source)):  # highest precedence first
                if _merge_id(pair[0]) not in taken:
                    taken.add(_merge_id(pair[0]))
                    merged.append(pair)
        self._flattening.discard(id(node))
        self._flat[id(node)] = [*reversed(merged), *own]
        return self._flat[id(node)]

    def _merge_sources(self, node: yaml.MappingNode, written: list[Pair]
                       ) -> list[yaml.MappingNode]:
        """The mappings merged into ``node``, in order of precedence."""
        out: list[yaml.MappingNode] = []
        for key_node, value in written:
            if key_node.tag != MERGE:
                continue
            items = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for item in items:
                if not isinstance(item, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"<< merges a mapping or a list of mappings, not a "
                        f"{getattr(item, 'id', 'node')}",
                        item.start_mark)
                out.append(item)
        return out

    def _hashable_key(self, node: yaml.Node, key_node: yaml.Node) -> Any:
        key = self.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark,
            ) from None
        return key


def _merges(node: yaml.MappingNode) -> bool:
    return MERGE in {key_node.tag for key_node, _ in node.value}


def _merge_id(key_node: yaml.Node) -> Any:
    """What makes two keys the same for merging: a scalar's tag and text."""
    if isinstance(key_node, yaml.ScalarNode):
        return key_node.tag, key_node.value
    return id(key_node)


# Keep YAML 1.1's surprises out: yes/no/on/off stay strings; only true/false are
# booleans. The resolver table is copied first: editing it in place would change every
# other PyYAML loader and dumper in the process.
_BOOL = "tag:yaml.org,2002:bool"
_StrictLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


_PLAIN = Plain(_StrictLoader)
_RAPID = Reader(_PLAIN.scalar)


def read_yaml(path: Path, display: str) -> tuple[Any, list[Diagnostic]]:
    """Parse one file. On failure returns (None, [diagnostic]) and never raises."""
    data, diags, _ = read_yaml_bytes(path, display)
    return data, diags


def read_yaml_bytes(path: Path, display: str) -> tuple[Any, list[Diagnostic], bytes | None]:
    """``read_yaml``, and the bytes it parsed (None when the file could not be read)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [_diag("YAML003", display, N_("file is {size} bytes; the limit is "
                                                       "{limit}"),
                                N_("split the tree into one file per center"),
                                size=size, limit=MAX_FILE_BYTES)], None
        raw = path.read_bytes()
    except OSError as exc:
        # the system's reason (strerror) is shown as the system words it
        return None, [_diag("YAML003", display, N_("cannot read file: {reason}"),
                            N_("check the path and permissions"), reason=exc.strerror)], None
    data, diags = parse_bytes(raw, display)
    return data, diags, raw


def _plain_data(text: str) -> Any:
    """The data of a file in the common case, the fastest way that reads it as the full
    loader does (rapidyaml, else libyaml's events); NotPlain when it is not."""
    try:
        return _RAPID.load(text)
    except NotPlain:
        return _PLAIN.load(text)


def parse_bytes(raw: bytes, display: str) -> tuple[Any, list[Diagnostic]]:
    """The data of a file's bytes ``raw`` (from the parse cache when they parsed cleanly
    before), or (None, [diagnostic]); never raises."""
    hit, data = parsecache.get(raw)
    if hit:  # these very bytes parsed cleanly before, with this pesdc
        return data, []
    if b"\x00" in raw:
        return None, [_diag("YAML003", display, N_("file is binary, not YAML text"),
                            N_("give a .yaml topology file"))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [_diag("YAML003", display,
                            N_("file is not UTF-8 text (bad byte at offset {offset})"),
                            N_("save the file as UTF-8"), offset=exc.start)]
    try:
        data = _plain_data(text)
        parsecache.put(raw, data)
        return data, []
    except (NotPlain, yaml.YAMLError, ValueError, RecursionError):
        pass  # the full loader says what is wrong, or reads what is unusual
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except DuplicateKeyError as exc:
        first_line = _position(text, exc.context_mark)[0]
        return None, [_diag("YAML002", display,
                            N_("duplicate key {key!r}; key {key!r} first given at line "
                               "{line}"), N_("remove one of the two keys"),
                            _position(text, exc.problem_mark), key=exc.key, line=first_line)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote or bracket: where it was opened
        msg = exc.problem or "invalid YAML"
        if exc.context:
            msg = f"{msg} ({exc.context})"
        # the parser's own words stay as it wrote them; the sentence around them is ours
        return None, [_diag("YAML001", display, N_("YAML syntax: {detail}"),
                            N_("fix the YAML syntax at this line (indentation, quotes, "
                               "colons)"), _position(text, mark), detail=msg)]
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return None, [_diag("YAML001", display, N_("YAML syntax: {detail}"),
                            N_("fix the YAML syntax"), detail=str(exc))]
    parsecache.put(raw, data)
    return data, []


def _position(text: str, mark: yaml.Mark | None) -> tuple[int, int]:
    """Where a mark points, as an editor counts lines; (0, 0) without a mark."""
    if mark is None:
        return 0, 0
    if mark.index is None:  # pragma: no cover - PyYAML and libyaml both set it
        return mark.line + 1, mark.column + 1
    return editor_position(text, mark.index)


def _diag(rule: str, file: str, template: str, hint: str,
          where: tuple[int, int] = (0, 0), **args: Any) -> Diagnostic:
    """A problem of the file as a whole, its message and hint catalog templates."""
    d = Diagnostic.marked(rule, template, file, (), hint, **args)
    d.line, d.column = where
    return d


class Locator:
    """Maps (file, YAML path) to (line, column), parsing each file at most once.

    A key that a mapping takes from a merge (``<<: *anchor``) is found where it is
    written, in the anchored mapping, unless the mapping writes it itself.
    """

    def __init__(self, files: dict[str, Path]):
        self._files = files
        self._roots: dict[str, tuple[str, yaml.Node] | None] = {}
        # Key index of each mapping node walked, so that many problems in one large
        # mapping cost one pass over its keys, not one pass per problem.
        self._keys: dict[int, dict[str, Pair]] = {}

    def _root(self, display: str) -> tuple[str, yaml.Node] | None:
        if display not in self._roots:
            path = self._files.get(display)
            found = None
            if path is not None:
                try:
                    # Bytes decoded as read_yaml does: read_text would turn a lone \r into
                    # \n and shift every line after it.
                    text = path.read_bytes().decode("utf-8-sig")
                    node = yaml.compose(text, Loader=_BaseLoader)
                    found = (text, node) if node is not None else None
                except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
                    found = None
            self._roots[display] = found
        return self._roots[display]

    def _mapping_keys(self, node: yaml.MappingNode) -> dict[str, Pair]:
        keys = self._keys.get(id(node))
        if keys is None:
            keys = _keys_with_merges(node, set())
            self._keys[id(node)] = keys
        return keys

    def locate(self, display: str, path: YamlPath) -> tuple[int, int]:
        root = self._root(display)
        if root is None:
            return 0, 0
        text, node = root
        best = node.start_mark
        for part in path:
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                keys = self._mapping_keys(node)
                if str(part) in keys:
                    key_node, nxt = keys[str(part)]
                    # A missing-key error points at its key; a value error at the value.
                    best = key_node.start_mark
            elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
                  and 0 <= part < len(node.value)):
                nxt = node.value[part]
                best = nxt.start_mark
            if nxt is None:
                break
            node = nxt
            if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
                best = node.start_mark
        return _position(text, best)

    def fill(self, diags: list[Diagnostic]) -> None:
        for d in diags:
            if not d.line and d.file in self._files:
                d.line, d.column = self.locate(d.file, d.path)


def _keys_with_merges(node: yaml.MappingNode, visiting: set[int]) -> dict[str, Pair]:
    """A mapping's keys: its own first, then merged ones (of ``<<: [*a, *b]`` a before
    b), each key's first occurrence winning, as the constructor resolves them."""
    visiting = visiting | {id(node)}  # a mapping that merges itself stops here
    keys: dict[str, Pair] = {}
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            merged += value_node.value if isinstance(value_node, yaml.SequenceNode) \
                else [value_node]
        elif isinstance(key_node.value, str):
            keys.setdefault(key_node.value, (key_node, value_node))
    for source in merged:
        if isinstance(source, yaml.MappingNode) and id(source) not in visiting:
            for name, pair in _keys_with_merges(source, visiting).items():
                keys.setdefault(name, pair)
    return keys
