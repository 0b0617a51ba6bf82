"""The plain VRP tree (readback._plain_tree) is hier_config's tree of the same text,
as a reader sees it (each line's text and children, in order), or None: then
hier_config reads it. Judged on the policy sections of every rendered USG firewall of
the example tree and of a generated national sample, and on texts changed at random
in every way the plain reading declines or must get right."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hier_config import Platform as HierPlatform
from hier_config import get_hconfig

from pesdc.render import readback as rb

HEADS = ("security-policy", "nat server", "firewall zone", "policy interzone",
         "firewall packet-filter", "nat-policy", "security-policy ", "firewall interzone")


def _shape(node: Any) -> list[tuple[str, Any]]:
    return [(c.text, _shape(c)) for c in node.children]


def _same_as_hier(text: str) -> bool:
    """Whether the plain tree (when there is one) is hier_config's; True when declined."""
    plain = rb._plain_tree(text)
    try:
        hier = get_hconfig(HierPlatform.HUAWEI_VRP, text)
    except Exception:  # hier_config refuses: the plain reading must decline
        return plain is None
    return plain is None or _shape(plain) == _shape(hier)


@pytest.fixture(scope="module")
def sections() -> list[str]:
    from pesdc.cli.common import load_tree
    from pesdc.platforms import kind_of
    from pesdc.render import render_device_files
    from pesdc.render.context import CenterFacts
    from tests.audit.conftest import ROOT

    out = []
    topo = load_tree((ROOT / "topologies",)).topology
    for dc in topo.datacenters.values():
        if dc.hosted:
            continue
        facts = CenterFacts.of(topo, dc)
        for dev in dc.devices:
            if kind_of(dev).name.startswith("huawei_usg"):
                files = render_device_files(facts, dev.name)
                if "device.cfg" in files:
                    out.append(files["device.cfg"])
    assert out
    return out


def test_the_plain_tree_of_rendered_policies_is_hier_configs(sections: list[str]) -> None:
    taken = 0
    for full in sections:
        for text in (rb.policy_sections(full, HEADS), full):
            assert _same_as_hier(text)
            taken += rb._plain_tree(text) is not None
    assert taken >= len(sections)  # the policy sections are read the plain way


def _mutate(rng: random.Random, lines: list[str]) -> list[str]:
    out = list(lines)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(out)) if out else 0
        op = rng.randrange(12)
        line = out[i] if out else ""
        if op == 0 and out:
            out.insert(i, line)  # a duplicate line
        elif op == 1:
            out.insert(i, " " * rng.randint(0, 4) + rng.choice(["#", "!", "quit", "exit",
                                                                 "return", "# note"]))
        elif op == 2 and out:
            out[i] = " " * rng.randint(0, 5) + line.lstrip()  # another indentation
        elif op == 3 and out:
            out[i] = line + rng.choice([" ", "  x", "\t", "\r", "\x0b"])
        elif op == 4 and out:
            out[i] = line.replace(" ", "  ", 1)
        elif op == 5:
            out.insert(i, rng.choice(["banner motd ##", "banner login %x%", "rsa peer-public-key k",
                                      " peer-public-key end", "é rule", "  \u00a0x"]))
        elif op == 6:
            out.insert(i, "")
        elif op == 7 and out:
            del out[i]
        elif op == 8 and out:
            j = rng.randrange(len(out))
            out[i], out[j] = out[j], out[i]
        elif op == 9 and out:
            out[i] = "\t" + line
        elif op == 10:
            out.insert(i, " " * rng.randint(1, 6) + rng.choice(["action permit", "x", "y z"]))
        else:
            out.append(rng.choice(["security-policy", " rule name a", "  action permit",
                                   "nat server s protocol tcp global 1.2.3.4 80 inside "
                                   "10.0.0.1 80 no-reverse"]))
    return out


def test_the_plain_tree_of_changed_texts_is_hier_configs_or_declined(
        sections: list[str]) -> None:
    rng = random.Random(2026)
    bases = [rb.policy_sections(s, HEADS).splitlines() for s in sections]
    small = [b[:rng.randint(1, 40)] for b in bases for _ in range(3)]
    declined = 0
    for _ in range(3000):
        lines = _mutate(rng, rng.choice(small))
        text = "\n".join(lines) + "\n"
        assert _same_as_hier(text), text
        declined += rb._plain_tree(text) is None
    assert 100 < declined < 2900  # both ways were tried


def test_the_national_policies_read_the_same_either_way() -> None:
    """A generated national sample: the USG policy read through the plain tree is the
    one read through hier_config."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from pesdc.cli.common import load_tree
    from pesdc.platforms import kind_of
    from pesdc.platforms.huawei_usg import policy as usg
    from pesdc.render import render_device_files
    from pesdc.render.context import CenterFacts

    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, str(root / "benchmarks" / "gen_national.py"),
                        "--out", tmp, "--scale", "0.05"], check=True, capture_output=True)
        topo = load_tree((Path(tmp),)).topology
        seen = 0
        for dc in [d for d in topo.datacenters.values() if not d.hosted][::25]:
            facts = CenterFacts.of(topo, dc)
            for dev in dc.devices:
                if not kind_of(dev).name.startswith("huawei_usg"):
                    continue
                text = rb.policy_sections(render_device_files(facts, dev.name)["device.cfg"],
                                          usg._HEADS)
                assert rb._plain_tree(text) is not None
                assert _shape(rb._plain_tree(text)) == _shape(
                    get_hconfig(HierPlatform.HUAWEI_VRP, text))
                seen += 1
        assert seen
