"""The parent's file, edited for a new child where the tree wires children that way.

Two habits are followed when the parent shows them for its other children:
- a router interface ``downlink: CHILD/UPLINK`` holds the child's uplink end: one line
  is added after the last such interface of that router, the next port name;
- a cross-center flow lists the children's systems in ``src_remote``/``dst_remote``
  (``zibo/data-exchange``...): the new child's same systems are added after the last
  child entry.
ruamel.yaml finds where (line and column of each item); the text is changed only there,
so every comment, the flow style and every other line stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq


@dataclass(frozen=True)
class Insert:
    """Text put at (line, column) of the original file (0-based)."""

    line: int
    column: int
    text: str
    what: str  # for the report: "shandong rt-2 GigabitEthernet0/0/5: downlink ..."


def _load(text: str) -> Any:
    return YAML(typ="rt").load(StringIO(text))


def _item_end(lines: list[str], line: int, dash_col: int) -> int:
    """The line after the sequence item that starts at ``line`` (its dash at
    ``dash_col``): continuation lines are indented deeper."""
    n = line + 1
    while n < len(lines):
        stripped = lines[n].strip()
        if stripped and (len(lines[n]) - len(lines[n].lstrip())) <= dash_col:
            break
        n += 1
    while n - 1 > line and not lines[n - 1].strip():
        n -= 1
    return n


def next_port(names: list[str], after: str) -> str:
    """The port after ``after`` (its last number plus one) that no name takes."""
    m = re.match(r"^(.*?)(\d+)$", after)
    if m is None:
        raise ValueError(after)
    taken = {n.casefold() for n in names}
    k = int(m.group(2)) + 1
    while f"{m.group(1)}{k}".casefold() in taken:
        k += 1
    return f"{m.group(1)}{k}"


def downlink_insert(text: str, siblings: set[str], child: str, uplink: str,
                    fallback: str | None = None) -> Insert | None:
    """One interface line on the router holding the most sibling downlinks, after its
    last one; with none, on router ``fallback`` (where the tree's other parents hold
    theirs) after its last interface; else None."""
    doc = _load(text)
    devices = (doc or {}).get("datacenter", {}).get("devices") or []
    best: tuple[int, CommentedMap, int] | None = None
    for dev in devices:
        itfs = dev.get("interfaces") or [] if isinstance(dev, CommentedMap) else []
        held = [j for j, itf in enumerate(itfs) if isinstance(itf, CommentedMap)
                and str(itf.get("downlink", "")).partition("/")[0] in siblings]
        if held and (best is None or len(held) > best[0]):
            best = (len(held), dev, held[-1])
        if fallback is not None and dev.get("name") == fallback and itfs and best is None:
            best = (0, dev, len(itfs) - 1)
    if best is None or not re.search(r"\d$", str(best[1]["interfaces"][best[2]]["name"])):
        return None
    _, dev, j = best
    seq: CommentedSeq = dev["interfaces"]
    line, col = seq.lc.item(j)
    lines = text.splitlines(keepends=True)
    port = next_port([str(i.get("name", "")) for i in seq], str(seq[j]["name"]))
    item = f"{{name: {port}, downlink: {child}/{uplink}}}"
    what = f"{dev['name']} {port}: downlink {child}/{uplink}"
    if seq.fa.flow_style():  # interfaces: [{...}, {...}]: one more item after the last
        end_line, end_col = _flow_item_end(lines, line, col)
        return Insert(end_line, end_col, f", {item}", what)
    dash = lines[line].rfind("-", 0, col)
    return Insert(_item_end(lines, line, dash), 0, f"{' ' * dash}- {item}\n", what)


def _flow_item_end(lines: list[str], line: int, col: int) -> tuple[int, int]:
    """Where the flow item starting at (line, col) ends: after its closing bracket when
    it is a mapping or sequence (brackets inside quotes do not count), else before the
    next ``,`` or ``]`` of its sequence."""
    depth, quote = 0, ""
    for n in range(line, len(lines)):
        text = lines[n]
        k = col if n == line else 0
        while k < len(text):
            ch = text[k]
            if quote:
                if ch == "\\" and quote == '"':
                    k += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch in "{[":
                depth += 1
            elif ch in "}]":
                if depth == 0:
                    return n, k
                depth -= 1
                if depth == 0:
                    return n, k + 1
            elif ch == "," and depth == 0:
                return n, k
            k += 1
    raise ValueError("unterminated flow sequence")


def remote_inserts(text: str, siblings: set[str], child: str, has: set[str]
                   ) -> list[Insert]:
    """For each flow listing sibling systems in src_remote/dst_remote, the child's same
    systems (those it has) after the last sibling entry."""
    doc = _load(text)
    out: list[Insert] = []
    lines = text.splitlines(keepends=True)
    for iso in (doc or {}).get("datacenter", {}).get("isolation") or []:
        for flow in (iso.get("flows") or []) if isinstance(iso, CommentedMap) else []:
            for key in ("src_remote", "dst_remote"):
                refs = flow.get(key) if isinstance(flow, CommentedMap) else None
                if not isinstance(refs, CommentedSeq):
                    continue
                ins = _remote_insert(lines, refs, siblings, child, has, flow, key)
                if ins is not None:
                    out.append(ins)
    return out


def _remote_insert(lines: list[str], refs: CommentedSeq, siblings: set[str], child: str,
                   has: set[str], flow: CommentedMap, key: str) -> Insert | None:
    items = [str(r) for r in refs]
    of_siblings = [i for i, r in enumerate(items) if r.partition("/")[0] in siblings]
    if not of_siblings or any(r.partition("/")[0] == child for r in items):
        return None
    wanted = list(dict.fromkeys(items[i].partition("/")[2] for i in of_siblings))
    add = [f"{child}/{s}" for s in wanted if s in has]
    if not add:
        return None
    last = of_siblings[-1]
    line, col = refs.lc.item(last)
    what = f"flow {flow.get('name', '?')} {key}: {', '.join(add)}"
    if refs.fa.flow_style():
        first_col = refs.lc.item(0)[1]
        quoted = lines[line][col:col + 1] in ("'", '"')
        return Insert(line, col + len(items[last]) + (2 if quoted else 0),
                      ",\n" + " " * first_col + ", ".join(add), what)
    dash = lines[line].rfind("-", 0, col)
    new = "".join(f"{' ' * dash}- {a}\n" for a in add)
    return Insert(_item_end(lines, line, dash), 0, new, what)


def apply(text: str, inserts: list[Insert]) -> str:
    """``text`` with every insert made (from the last position up, so each position
    is still the original one)."""
    lines = text.splitlines(keepends=True)
    for ins in sorted(inserts, key=lambda i: (i.line, i.column), reverse=True):
        if ins.line >= len(lines):
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            lines.append(ins.text)
            continue
        cur = lines[ins.line]
        lines[ins.line] = cur[:ins.column] + ins.text + cur[ins.column:]
    return "".join(lines)
