"""Reading topology YAML: fast when clean, precise when not.

Files are parsed with libyaml (CSafeLoader) into plain Python data. Nothing records
line numbers on that path; when a problem is found, ``Locator`` parses the one file
again into a node tree and walks the YAML path down to the line and column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pesdc.model.diagnostics import Diagnostic, YamlPath

try:  # libyaml is part of Debian's and PyPI's PyYAML builds; fall back if absent.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - only without libyaml
    _BaseLoader = yaml.SafeLoader

MAX_FILE_BYTES = 256 * 1024 * 1024


class DuplicateKeyError(yaml.MarkedYAMLError):
    """Two equal keys in one mapping: PyYAML would silently keep the last one."""


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found an unhashable key", key_node.start_mark,
                ) from None
            if key in seen:
                raise DuplicateKeyError(
                    f"key {key!r} first given at line {seen[key].start_mark.line + 1}",
                    seen[key].start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


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


def read_yaml(path: Path, display: str) -> tuple[Any, list[Diagnostic]]:
    """Parse one file. On failure returns (None, [diagnostic]) and never raises."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [_diag("YAML003", display, f"file is {size} bytes; the limit is "
                                f"{MAX_FILE_BYTES}", "split the tree into one file per center")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [_diag("YAML003", display, f"cannot read file: {exc.strerror}",
                            "check the path and permissions")]
    if b"\x00" in raw:
        return None, [_diag("YAML003", display, "file is binary, not YAML text",
                            "give a .yaml topology file")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [_diag("YAML003", display,
                            f"file is not UTF-8 text (bad byte at offset {exc.start})",
                            "save the file as UTF-8")]
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        return None, [_diag("YAML002", display, f"{exc.problem}; {exc.context}",
                            "remove one of the two keys", mark)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote or bracket: where it was opened
        msg = exc.problem or "invalid YAML"
        if exc.context:
            msg = f"{msg} ({exc.context})"
        return None, [_diag("YAML001", display, f"YAML syntax: {msg}",
                            "fix the YAML syntax at this line (indentation, quotes, colons)",
                            mark)]
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return None, [_diag("YAML001", display, f"YAML syntax: {exc}",
                            "fix the YAML syntax")]
    return data, []


def _diag(rule: str, file: str, message: str, hint: str,
          mark: yaml.Mark | None = None) -> Diagnostic:
    d = Diagnostic(rule=rule, message=message, file=file, hint=hint)
    if mark is not None:
        d.line, d.column = mark.line + 1, mark.column + 1
    return d


class Locator:
    """Maps (file, YAML path) to (line, column), parsing each file at most once."""

    def __init__(self, files: dict[str, Path]):
        self._files = files
        self._roots: dict[str, yaml.Node | None] = {}
        # Key index of each mapping node walked, so that many problems in one large
        # mapping cost one pass over its keys, not one pass per problem.
        self._keys: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}

    def _root(self, display: str) -> yaml.Node | None:
        if display not in self._roots:
            path = self._files.get(display)
            node = None
            if path is not None:
                try:
                    node = yaml.compose(path.read_text("utf-8-sig"), Loader=_BaseLoader)
                except (OSError, UnicodeDecodeError, yaml.YAMLError):
                    node = None
            self._roots[display] = node
        return self._roots[display]

    def locate(self, display: str, path: YamlPath) -> tuple[int, int]:
        node = self._root(display)
        if node is None:
            return 0, 0
        best = node.start_mark
        for part in path:
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                keys = self._keys.get(id(node))
                if keys is None:
                    keys = {}
                    for key_node, value_node in node.value:
                        if isinstance(key_node.value, str):
                            keys.setdefault(key_node.value, (key_node, value_node))
                    self._keys[id(node)] = keys
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
        return best.line + 1, best.column + 1

    def fill(self, diags: list[Diagnostic]) -> None:
        for d in diags:
            if not d.line and d.file in self._files:
                d.line, d.column = self.locate(d.file, d.path)
