"""hier_config's tree of a plain Huawei VRP text, built without hier_config's per-line
machinery, only where the result is provably the one hier_config builds.

The readback reads each firewall's policy sections through hier_config's tree (the
lines and their nesting by indentation). On the national tree that parse is a tenth of
a static audit and of a render: some 250,000 lines. For text of the plainest kind,
printable ASCII lines that hier_config's Huawei VRP driver leaves as they are, the tree
is just the indentation; this builds it the way ``hier_config``'s loader nests lines
(``_analyze_indent``), as nodes with the ``text`` and ``children`` the readers use.

Declined (None: hier_config parses it), whatever the driver would treat specially or
the loader would change: a line outside printable ASCII (tabs and the other
whitespace ``split`` knows, control characters), a comment line (``#``, ``!``: the
driver blanks them), spaces doubled inside or left at the end of a line (the loader
collapses them), a banner, a public-key block (the driver's indent rule), ``quit``
(its sectional exit, which the loader deletes) and two siblings of the same text
(hier_config refuses them: DuplicateChildError). tests/render/test_plaintree.py
compares the two on every rendered policy of the repository and a national tree, and
on generated text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Node:
    """One line of the tree: its text (indentation removed) and the lines under it."""

    text: str
    indent: int
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    names: set[str] = field(default_factory=set)


def _special(body: str, indent: int) -> bool:
    """A line the VRP driver or the loader treats other than as a plain line."""
    return (body[0] in "#!" or body.endswith(" ") or "  " in body or body == "quit"
            or "peer-public-key" in body or (indent == 0 and body.startswith("banner ")))


def plain_tree(text: str) -> Node | None:
    """The root of ``text``'s tree as hier_config (Huawei VRP) nests it, or None."""
    if not text.isascii() or not text.replace("\n", "").isprintable():
        return None
    root = Node("", -1)
    root.parent = root  # as HConfig's: the walk up stops at the root (indent -1)
    current = recent = root
    for line in text.split("\n"):
        body = line.lstrip(" ")
        if not body:
            continue  # an empty line: skipped, as the loader does
        indent = len(line) - len(body)
        if _special(body, indent):
            return None
        while indent <= current.indent:
            current = current.parent  # type: ignore[assignment]
        if indent > recent.indent:
            current = recent
        if body in current.names:
            return None
        recent = Node(body, indent, current)
        current.children.append(recent)
        current.names.add(body)
    return root
