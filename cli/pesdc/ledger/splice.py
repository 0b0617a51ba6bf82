"""Put a ledger's sections into a center file's text, leaving every other byte as it was.

ruamel.yaml (round-trip mode) finds where each item of a section starts; the text is
then cut there. An item whose values are unchanged keeps its exact text, comments
included; the comment lines above an item travel with it. A changed or new item is
written afresh in the style of the item it replaces (one flow mapping per item, or a
block mapping), with the keys in the order the file had them. Nothing outside the
sections the ledger owns is touched.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

WIDTH = 96  # the line length the example tree is written to
# How a section is written when the file has no item to copy the style from.
BLOCK_SECTIONS = {"devices"}


class SpliceError(ValueError):
    """The file cannot be updated in place (not a mapping with a datacenter: mapping)."""


def _normal(value: Any) -> Any:
    """A value with empty parts dropped: ``interfaces: []`` and no interfaces are equal."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def same(old: Any, new: Any) -> bool:
    """Equal as values (JSON tells 1 from true and 1000 from 1000.0)."""
    return json.dumps(_normal(old), sort_keys=True) == json.dumps(_normal(new), sort_keys=True)


def _ordered(new: Any, old: Any) -> Any:
    """``new`` with the keys the old item had first, in its order, then the others; the
    same for the mappings of its lists (a device's interfaces), matched by name."""
    if isinstance(new, list) and isinstance(old, list):
        olds = {o.get("name"): o for o in old if isinstance(o, dict)}
        return [_ordered(n, olds.get(n.get("name"))) if isinstance(n, dict) else n
                for n in new]
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new
    keys = [k for k in old if k in new] + [k for k in new if k not in old]
    return {k: _ordered(new[k], old.get(k)) for k in keys}


def _shown_width(text: str) -> int:
    """Columns a line takes in an editor: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _OneLineDumper(yaml.SafeDumper):
    """A string that is not one printable line (a cell with a line break) is written
    double-quoted with escapes, so it stays on its line of the file: the schema check
    then names its cell (SCH005) instead of the file failing to parse."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if not data.isprintable():
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)


_OneLineDumper.add_representer(str, _OneLineDumper.represent_str)


def _pair(key: str, value: Any) -> str:
    """``key: value`` in flow style, quoted as PyYAML (and so the loader) needs."""
    text = yaml.dump({key: value}, Dumper=_OneLineDumper, default_flow_style=True,
                     width=10**9, allow_unicode=not _unprintable(value),
                     sort_keys=False).strip()
    return text[1:-1]


def _unprintable(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isprintable()
    if isinstance(value, dict):
        return any(_unprintable(v) for v in value.values())
    if isinstance(value, list):
        return any(_unprintable(v) for v in value)
    return False


def _packed(pairs: list[str], first: str, rest: str) -> list[str]:
    """``{a: 1, b: 2}`` broken between pairs only, lines within WIDTH where they fit."""
    lines: list[str] = []
    line = first + "{"
    for i, pair in enumerate(pairs):
        piece = pair + ("}" if i == len(pairs) - 1 else ",")
        if i and _shown_width(f"{line} {piece}") > WIDTH:
            lines.append(line + "\n")
            line = rest + piece
        else:
            line = f"{line}{' ' if i else ''}{piece}"
    return [*lines, line + "\n"] if pairs else [first + "{}\n"]


def emit_item(item: dict[str, Any], flow: bool, indent: int) -> list[str]:
    """The lines of one sequence item ``- ...`` with its dash at column ``indent``:
    one flow mapping, or a block mapping whose lists of mappings (a device's
    interfaces) hold one flow mapping per line."""
    pad = " " * indent
    if flow:
        return _packed([_pair(k, v) for k, v in item.items()], f"{pad}- ", pad + "   ")
    lines: list[str] = []
    for n, (key, value) in enumerate(item.items()):
        lead = f"{pad}- " if n == 0 else f"{pad}  "
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{lead}{key}:\n")
            for sub in value:
                lines += _packed([_pair(k, v) for k, v in sub.items()], f"{pad}    - ",
                                 pad + "       ")
        else:
            lines.append(f"{lead}{_pair(key, value)}\n")
    return lines


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _back_over_filler(lines: list[str], end: int, floor: int) -> int:
    while end > floor and _is_filler(lines[end - 1]):
        end -= 1
    return end


@dataclass
class _Item:
    leading: list[str]  # comment and blank lines above it
    body: list[str]
    flow: bool


@dataclass
class _Section:
    key_line: int
    head: list[str]  # lines between the key and the first item (comments)
    items: list[_Item]
    end: int  # the first line after the section's last item


def _dc_end(root: CommentedMap, lines: list[str]) -> int:
    keys = list(root)
    after = keys.index("datacenter") + 1
    end = root.lc.key(keys[after])[0] if after < len(keys) else len(lines)
    return end


def _section(dc: CommentedMap, name: str, lines: list[str], dc_end: int) -> _Section | None:
    """Where a block list section and its items are; None for a flow or empty one."""
    seq = dc[name]
    if not isinstance(seq, CommentedSeq) or not seq or seq.fa.flow_style():
        return None
    keys = list(dc)
    key_line = dc.lc.key(name)[0]
    nxt = keys.index(name) + 1
    limit = dc.lc.key(keys[nxt])[0] if nxt < len(keys) else dc_end
    end = _back_over_filler(lines, limit, key_line + 1)
    starts = [seq.lc.item(i)[0] for i in range(len(seq))]
    if any(not lines[s].lstrip().startswith("-") for s in starts):
        return None  # a dash on a line of its own: not cut, written afresh
    items: list[_Item] = []
    head = lines[key_line + 1:starts[0]]
    leading: list[str] = []  # the first item's lines above it stay under the key
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        body_end = _back_over_filler(lines, stop, start + 1)
        body = lines[start:body_end]
        items.append(_Item(leading, body, body[0].lstrip()[1:].lstrip().startswith("{")))
        leading = lines[body_end:stop]
    return _Section(key_line, head, items, end)


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _new_section_lines(name: str, items: list[dict[str, Any]], key_indent: int,
                       flow: bool) -> list[str]:
    if not items:
        return [f"{' ' * key_indent}{name}: []\n"]
    out = [f"{' ' * key_indent}{name}:\n"]
    for item in items:
        out += emit_item(item, flow, key_indent + 2)
    return out


def _spliced(sec: _Section, lines: list[str], name: str, new: list[dict[str, Any]],
             old: list[Any]) -> list[str]:
    """The section's new lines, key line included."""
    indent = _indent_of(sec.items[0].body[0])
    by_name: dict[Any, int] = {}
    for n, old_item in enumerate(old):
        if isinstance(old_item, dict):
            by_name.setdefault(old_item.get("name"), n)
    if not new:
        return [f"{' ' * _indent_of(lines[sec.key_line])}{name}: []\n"]
    out = lines[sec.key_line:sec.key_line + 1] + sec.head
    used = {by_name[n["name"]] for n in new if n.get("name") in by_name}
    # Comments above an item that the ledger drops stay, above the item that follows.
    orphans = {i: sec.items[i].leading for i in range(len(sec.items)) if i not in used}
    pending: list[str] = []
    flow = sec.items[0].flow
    taken: set[int] = set()
    for item in new:
        found = by_name.get(item.get("name"))
        # A second row of one name is a new item (the check names the row).
        i = found if found is not None and found not in taken else None
        if i is None:
            out += pending + emit_item(item, flow, indent)
            pending = []
            continue
        taken.add(i)
        pending += [ln for j, lead in sorted(orphans.items()) if j < i for ln in lead]
        orphans = {j: lead for j, lead in orphans.items() if j >= i}
        src = sec.items[i]
        flow = src.flow
        body = src.body if same(old[i], item) else \
            emit_item(_ordered(item, old[i]), src.flow, indent)
        out += pending + src.leading + body
        pending = []
    out += pending + [ln for lead in orphans.values() for ln in lead]
    return out


def splice(text: str, sections: dict[str, list[dict[str, Any]]],
           old_dc: dict[str, Any]) -> str:
    """``text`` (a center file) with ``sections`` in place of its own. ``old_dc`` is the
    file's ``datacenter:`` as the loader reads it (merges resolved), to tell unchanged
    items."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    try:
        root = YAML(typ="rt").load(text)
    except Exception as exc:  # ruamel's errors share no base class worth naming
        raise SpliceError(f"cannot parse the file for an update: {exc}") from None
    if not isinstance(root, CommentedMap) or not isinstance(root.get("datacenter"),
                                                            CommentedMap):
        raise SpliceError("the file has no datacenter: mapping to update")
    dc = root["datacenter"]
    dc_end = _dc_end(root, lines)
    key_indent = dc.lc.key(next(iter(dc)))[1] if dc else 2
    # Cut from the last section up, so earlier line numbers stay true.
    present = sorted((s for s in sections if s in dc), key=lambda s: -dc.lc.key(s)[0])
    for name in present:
        old = old_dc.get(name) or []
        sec = _section(dc, name, lines, dc_end)
        if sec is None:
            start = dc.lc.key(name)[0]
            keys = list(dc)
            nxt = keys.index(name) + 1
            limit = dc.lc.key(keys[nxt])[0] if nxt < len(keys) else dc_end
            stop = _back_over_filler(lines, limit, start + 1)
            lines[start:stop] = _new_section_lines(name, sections[name], key_indent,
                                                   name not in BLOCK_SECTIONS)
            continue
        lines[sec.key_line:sec.end] = _spliced(sec, lines, name, sections[name], old)
    missing = [s for s in sections if s not in dc and sections[s]]
    if missing:
        at = _back_over_filler(lines, _dc_end(root, lines) if not present else
                               _end_after_edit(lines, dc_end, text), 0)
        added: list[str] = []
        for name in missing:
            added += ["\n", *_new_section_lines(name, sections[name], key_indent,
                                                 name not in BLOCK_SECTIONS)]
        lines[at:at] = added
    return "".join(lines)


def _end_after_edit(lines: list[str], dc_end: int, text: str) -> int:
    """The datacenter block's end once sections inside it changed length."""
    tail = len(text.splitlines()) - dc_end  # lines after the block, unchanged
    return len(lines) - tail
