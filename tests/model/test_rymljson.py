"""The rapidyaml path of read_yaml (pesdc.model.rymljson) reads a file as the full loader
does, or leaves it alone.

The judge is the full loader (PyYAML and libyaml with pesdc's strict rules), as for
``fastyaml``: on the repository's topologies, a generated national tree, a file of
every kind of scalar YAML 1.1 resolves, and texts hypothesis makes of YAML's own
punctuation. The property each time: the path either raises NotPlain or gives exactly
what the full loader gives; a text the full loader refuses is never read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pesdc.model import rymljson
from pesdc.model.fastyaml import NotPlain, Plain
from pesdc.model.yamlio import _StrictLoader, read_yaml

from .test_fastyaml import SCALARS, full, same

ROOT = Path(__file__).resolve().parents[2]
PLAIN = Plain(_StrictLoader)
RAPID = rymljson.Reader(PLAIN.scalar)
EXAMPLES = int(os.environ.get("PESDC_FUZZ_EXAMPLES", "300"))



def test_rapidyaml_is_installed() -> None:
    """A dependency: without it every file takes the slower path, silently."""
    assert rymljson.ryml is not None


def judged(text: str) -> bool:
    """Checks the property on ``text``; True when the rapidyaml path read it."""
    try:
        want: Any = ("data", full(text))
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        want = ("refused", exc)
    try:
        got = RAPID.load(text)
    except NotPlain:
        return False
    assert want[0] == "data", f"read what the full loader refuses ({want[1]}): {text!r}"
    assert same(got, want[1]), f"read differently: {text!r}: {got!r} != {want[1]!r}"
    return True


def test_every_kind_of_scalar_as_the_full_loader_or_not_at_all() -> None:
    judged(SCALARS)
    read = sum(judged(line + "\n") for line in SCALARS.splitlines())
    assert read >= 4  # the plain lines are read here


QUOTED = """\
code: "330100"
flag: "yes"
word: 'true'
empty: ''
number: 1.5
none:
nested: {a: ["1", 2, "on"], b: [x, "330100"]}
"""


def test_quoted_numbers_stay_text_and_plain_ones_are_numbers() -> None:
    assert judged(QUOTED)
    got = RAPID.load(QUOTED)
    assert got["code"] == "330100" and got["flag"] == "yes" and got["word"] == "true"
    assert got["number"] == 1.5 and got["none"] is None


@pytest.mark.parametrize("text", [
    "a: True\n", "a: 010\n", "a: 1_000\n", "a: 1:30\n", "a: ~\n", "a: 2026-01-01\n",
    "a: [TRUE, False]\n", "1: a\n", "true: a\n", "a: 1e3\n", "a: +5\n", "a: .inf\n",
    # quoted, but rapidyaml's JSON would be the same had they been plain (a string):
    # which of the two was written cannot be told, so neither is read here
    "a: '0571'\n", 'a: "2026-01-01"\n', "a: '1_000'\n",
])
def test_a_plain_scalar_yaml_11_reads_otherwise_is_left_alone(text: str) -> None:
    with pytest.raises(NotPlain):
        RAPID.load(text)


@pytest.mark.parametrize("text", [
    "a:\tb\n", "a: @x\n", "a: `x\n", "a: \"x\\ty\"\n", "a: &x 1\nb: *x\n", "a: !!str 1\n",
    "%YAML 1.1\n---\na: 1\n", "a: 1\n---\nb: 2\n", "a: |\n  x\n", "b: >-\n  x\n",
    "? a\n: b\n", "a: 1\na: 2\n", "- a\n", "x\n", "", "a: 1\r\nb: 2\r\n", "a: x\u2028y\n",
])
def test_the_unusual_is_left_to_the_other_paths(text: str) -> None:
    with pytest.raises(NotPlain):
        RAPID.load(text)


def topology_files() -> list[Path]:
    return sorted(p for d in ("topologies", "topologies-noncompliant", "tests/fixtures")
                  for p in (ROOT / d).rglob("*.yaml"))


def test_the_repository_topologies_as_the_full_loader() -> None:
    files = topology_files()
    read = sum(judged(f.read_bytes().decode("utf-8-sig", errors="replace")) for f in files)
    assert read > 20


def test_a_generated_national_tree_is_read_here_and_as_the_full_loader(
        tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_national.py"), "--out",
                    str(tmp_path / "nat"), "--scale", "0.02"], check=True,
                   capture_output=True)
    files = sorted((tmp_path / "nat").rglob("*.yaml"))
    assert len(files) > 300
    assert all(judged(f.read_text()) for f in files)  # every file of it, on this path


# Texts made of YAML's punctuation, words YAML 1.1 resolves, and text: most are refused
# or unusual (and must then be left alone), some read (and must then read the same).
_PIECES = st.sampled_from([
    "a", "b", "key", "中文", " ", "  ", "\n", "\n  ", "\n- ", ": ", ":", "- ", "-", "#", " # c",
    "'", '"', "''", ",", "[", "]", "{", "}", "?", "|", ">", "->", "1", "0", "07", "1.5",
    "1e3", ".", "~", "yes", "no", "on", "true", "null", "2026-01-01", "1:30", "0x1F",
    "10.1.2.3", "+", "_", "=", "<<", "/", "*", "&", "!", "%", "@", "\t", "\\",
])


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, min_size=1, max_size=24).map("".join))
def test_punctuation_is_read_as_the_full_loader_or_left_alone(text: str) -> None:
    judged(text)


_SCALAR_TEXT = st.one_of(
    st.sampled_from(["yes", "No", "on", "OFF", "true", "False", "~", "null", "", "0", "-0",
                     "007", "0571", "330100", "1_000", "0x1F", "0o17", "0b101", "+5",
                     "1:30", "1.5", "1.", ".5", "-.5", "1e3", "1.0e+3", "1.0e3", ".inf",
                     "-.Inf", ".nan", "2026-01-01", "2001-12-14t21:59:43.10-05:00",
                     "10.1.2.3", "10.1.2.0/24", "GE1/0/0", "a b", "中文 名", "x-y", "<<",
                     "="]),
    st.text(alphabet="ab中1.-:_ eE+x0/", min_size=1, max_size=12))


def _written(text: str, style: str) -> str:
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text + '"' if '"' not in text else "'" + text + "'"
    return text


_VALUE = st.tuples(_SCALAR_TEXT, st.sampled_from(["plain", "single", "double"])) \
    .map(lambda t: _written(*t))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_VALUE, _VALUE, st.booleans()), min_size=1, max_size=8))
def test_documents_of_tricky_scalars_read_as_the_full_loader(
        items: list[tuple[str, str, bool]]) -> None:
    lines = []
    for i, (key, value, flow) in enumerate(items):
        name = f"k{i}" if i % 2 else key
        lines.append(f"{name}: [{value}, {key}]" if flow else f"{name}: {value}")
    judged("\n".join(lines) + "\n")


@settings(max_examples=EXAMPLES, deadline=None)
@given(_SCALAR_TEXT)
def test_every_plain_scalar_yaml_11_reads_as_other_than_text_is_looked_at(text: str) -> None:
    """_MAYBE_NOT_STR is a superset of PyYAML's implicit resolvers: a string it passes
    over is text to YAML 1.1 whether it was written quoted or plain."""
    try:
        resolved = PLAIN.scalar(text)
    except (NotPlain, ValueError):
        resolved = None  # a merge or value key, or PyYAML fails on it (0b_): not text
    if type(resolved) is not str and '"' not in text and "\\" not in text:
        m = rymljson._MAYBE_NOT_STR.match(f'"{text}"')
        assert m is not None and m.group(1) == text, text


def test_a_syntax_error_is_the_full_loaders_and_rapidyaml_says_nothing(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("datacenter:\n  name: [a, b\n")
    data, diags = read_yaml(f, "bad.yaml")
    assert data is None and [d.rule for d in diags] == ["YAML001"]
    assert diags[0].line in (2, 3)
    err = capfd.readouterr().err
    assert "ERROR" not in err and "parse_engine" not in err
    print("still", file=sys.stderr)  # standard error is back
    assert "still" in capfd.readouterr().err


_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**12),
                  st.floats(allow_nan=False, allow_infinity=False, width=32),
                  _SCALAR_TEXT, st.text(alphabet="ab 中:#'\",[]{}-?|>", max_size=8))
_DATA = st.recursive(_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(alphabet="abk中_-", min_size=1, max_size=6), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(alphabet="abk_", min_size=1, max_size=5), _DATA, min_size=1,
                       max_size=5),
       st.sampled_from([False, True, None]), st.integers(2, 6), st.sampled_from([40, 1000]))
def test_data_dumped_by_pyyaml_in_every_style_reads_as_the_full_loader(
        data: dict[str, Any], flow: bool | None, indent: int, width: int) -> None:
    """What PyYAML itself writes (block, flow and mixed; quoting, line folding of long
    scalars at ``width``) as real files are written by tools and people."""
    judged(yaml.safe_dump(data, default_flow_style=flow, indent=indent, width=width,
                          allow_unicode=True, sort_keys=False))
