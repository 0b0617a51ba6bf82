"""pesdc.render.plaintree against the parser it stands in for: hier_config's own loader
(Huawei VRP driver). Wherever plain_tree builds a tree, it is hier_config's, line for
line and level for level; wherever hier_config refuses a text, plain_tree declines it.
Judged on every USG policy rendered from the repository's topologies and from a
generated national tree (where the fast path must be taken, or it saves nothing), and
on generated text full of what the loader treats specially."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hier_config import Platform, get_hconfig
from hypothesis import given, settings
from hypothesis import strategies as st

from pesdc.platforms.huawei_usg.policy import _HEADS
from pesdc.render import plaintree, render_tree
from pesdc.render.readback import sections

ROOT = Path(__file__).resolve().parents[2]


def _shape(children: Any, depth: int = 1) -> list[tuple[int, str]]:
    out = []
    for c in children:
        out.append((depth, c.text))
        out += _shape(c.children, depth + 1)
    return out


def _hier(text: str) -> list[tuple[int, str]] | None:
    try:
        return _shape(get_hconfig(Platform.HUAWEI_VRP, text).children)
    except Exception:  # refused (a duplicate section): plain_tree must decline it too
        return None


def _judge(text: str) -> bool:
    """Equal where plain_tree answers; True when it took the fast path."""
    fast = plaintree.plain_tree(text)
    if fast is not None:
        assert _shape(fast.children) == _hier(text), text
    return fast is not None


def _usg_policies(tree: Path) -> list[str]:
    from pesdc.cli.common import load_tree

    topo = load_tree((tree,)).topology
    files = render_tree(topo, parts=("devices",)).files
    return [sections(text, _HEADS) for path, text in sorted(files.items())
            if path.endswith("/device.cfg") and "\nsecurity-policy\n" in text]


def test_every_repository_policy_is_hier_configs_tree() -> None:
    policies = [p for folder in ("topologies", "tests/render/fixtures")
                if (ROOT / folder).is_dir() for p in _usg_policies(ROOT / folder)]
    assert policies, "no USG policy rendered: nothing judged"
    assert all(_judge(p) for p in policies)


def test_a_national_trees_policies_take_the_fast_path(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_national.py"), "--out",
                    str(tmp_path / "nat"), "--scale", "0.03"], check=True,
                   capture_output=True)
    policies = _usg_policies(tmp_path / "nat")
    assert len(policies) > 100
    assert all(_judge(p) for p in policies)


words = st.sampled_from(["rule name a", "rule name b", "source-zone x", "action permit",
                         "quit", "#", "! note", "banner motd x", "rsa peer-public-key k",
                         "peer-public-key end", "security-policy", "a  b", "a ", "x\ty",
                         "\u00e9t\u00e9", "\x0c", "", " ", "description 网", "nat server"])
lines = st.tuples(st.integers(0, 4), words).map(lambda t: " " * t[0] + t[1])


@settings(max_examples=3000)
@given(st.lists(lines, max_size=14))
def test_generated_text_is_judged_alike(text_lines: list[str]) -> None:
    text = "\n".join(text_lines) + "\n"
    _judge(text)
    if _hier(text) is None:
        assert plaintree.plain_tree(text) is None


@pytest.mark.parametrize("text", [
    "security-policy\n rule name a\n  action permit\n rule name a\n",  # a duplicate
    "security-policy\n rule name a\n  quit\n",
    "security-policy\n#\n",
    "security-policy\n\trule name a\n",
    "security-policy\n rule name  a\n",
])
def test_what_the_loader_treats_specially_is_declined(text: str) -> None:
    assert plaintree.plain_tree(text) is None


def test_indentation_climbs_back_as_hier_config_climbs() -> None:
    text = ("security-policy\n rule name a\n   source-zone x\n  action permit\n"
            " rule name b\nfirewall zone trust\n add interface g0\n")
    assert _judge(text)
