"""The fast path of read_yaml (pesdc.model.fastyaml) gives what the full loader gives.

The judge is the full loader (PyYAML's constructor with pesdc's strict rules), on the
repository's own topologies and on a file of every kind of scalar YAML 1.1 resolves;
what the fast path does not read itself (anchors, tags, merges, repeated keys, errors)
must be handed to the full loader, never guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pesdc.model.fastyaml import NotPlain, Plain
from pesdc.model.yamlio import _StrictLoader, read_yaml

ROOT = Path(__file__).resolve().parents[2]
PLAIN = Plain(_StrictLoader)


def same(a: Any, b: Any) -> bool:
    """Equal with the same types and key order (1 == 1.0 == True would hide a bug)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b or (a != a and b != b))


def full(text: str) -> Any:
    return yaml.load(text, Loader=_StrictLoader)  # the strict safe loader


SCALARS = """\
ints: [0, 7, -3, 010, 0o17, 0x1F, 1_000, +5, '12', "13", 1:30]
floats: [1.5, -0.25, 1e3, 1.0e3, .inf, -.Inf, .nan, 6.8523015e+5, 190:20:30.15]
bools: [true, True, TRUE, false, yes, no, on, off, y, n]
nulls: [~, null, Null, NULL, '', "~"]
dates: [2026-01-01, 2001-12-14t21:59:43.10-05:00, '2026-01-01']
strings: [GE1/0/0, 10.1.2.0/24, "a: b", 'it''s', plain text, 0b101, 12e]
block: |
  two
  lines
folded: >
  one
  line
multi: a plain
  scalar on two lines
10: int key
"quoted key": 1
? explicit
: key
empty:
nested: {a: [1, {b: [2, [3]]}], c: {}}
"""


def test_every_kind_of_scalar_as_the_full_loader() -> None:
    assert same(PLAIN.load(SCALARS), full(SCALARS))


def test_the_repository_topologies_as_the_full_loader() -> None:
    files = sorted(p for d in ("topologies", "topologies-noncompliant", "tests/fixtures")
                   for p in (ROOT / d).rglob("*.yaml"))
    assert len(files) > 20
    read = 0
    for f in files:
        text = f.read_bytes().decode("utf-8-sig", errors="replace")
        try:
            want = full(text)
        except (yaml.YAMLError, RecursionError, ValueError):
            with pytest.raises((NotPlain, yaml.YAMLError, ValueError)):
                PLAIN.load(text)
            continue
        try:
            got = PLAIN.load(text)
        except NotPlain:
            continue
        read += 1
        assert same(got, want), f
    assert read > 20


@pytest.mark.parametrize("text", [
    "a: &x {b: 1}\nc: *x\n",          # anchor and alias
    "a: {b: 1}\nc:\n  <<: {d: 2}\n",  # merge key
    "a: !!str 1\n",                   # explicit tag
    "a: 1\na: 2\n",                   # repeated key
    "? [a, b]\n: 1\n",                # a list as a key
    "a: 1\n---\nb: 2\n",              # two documents
    "a: =\n",                         # the value tag
])
def test_the_unusual_is_left_to_the_full_loader(text: str) -> None:
    with pytest.raises(NotPlain):
        PLAIN.load(text)


@pytest.mark.parametrize("text", ["a: [1, 2\n", "a: b: c\n", "a:\n\t- 1\n", "'open\n"])
def test_a_syntax_error_is_the_full_loaders(text: str, tmp_path: Path) -> None:
    """read_yaml reports the full loader's message and line, whatever the fast path saw."""
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    data, diags = read_yaml(f, "bad.yaml")
    assert data is None and [d.rule for d in diags] == ["YAML001"]
    with pytest.raises(yaml.MarkedYAMLError) as exc:
        full(text)
    assert exc.value.problem and exc.value.problem in diags[0].message


def test_a_repeated_key_is_still_yaml002(tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text("datacenter:\n  name: a\n  name: b\n")
    data, diags = read_yaml(f, "dup.yaml")
    assert data is None
    assert [(d.rule, d.line, d.column) for d in diags] == [("YAML002", 3, 3)]
