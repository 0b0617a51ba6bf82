"""Every line pesdc renders for a vendor device is one its family's command reference
(``pesdc/platforms/<family>/commands.yaml``, read from vendor documents) accepts in the
view the line is typed in. The walker itself is tested on a small reference first."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from pesdc.model import validate
from pesdc.platforms import family_of, platform
from pesdc.platforms.reference import REFERENCE_FILE, load, reference
from pesdc.render import render_tree
from tests.conftest import ROOT

EXAMPLES = ROOT / "topologies"

SMALL = """\
indent: 1
banner_body: delimited banners
views:
  interface: {enter: '^interface \\S+$', parent: system}
  ospf: {enter: '^ospf \\d+$', parent: system}
  area: {enter: '^area \\S+$', parent: ospf}
commands:
  - {pattern: '^#$', view: any, source: separator}
  - {pattern: '^sysname \\S+$', view: system, source: doc 1.1}
  - {pattern: '^ip address \\S+ \\S+$', view: interface, source: doc 2.1}
  - {pattern: '^network \\S+ \\S+$', view: area, source: doc 3.2}
  - {pattern: '^banner motd \\S$', view: system, source: doc 4}
"""


@pytest.fixture
def small(tmp_path: Path):
    path = tmp_path / REFERENCE_FILE
    path.write_text(SMALL, encoding="utf-8")
    return load(path, "small")


def test_a_line_is_judged_in_the_view_it_is_typed_in(small) -> None:
    config = ("sysname core-1\n#\ninterface GE1/0/1\n ip address 10.0.0.1 24\n#\n"
              "ospf 1\n area 0.0.0.0\n  network 10.0.0.0 0.0.0.255\n#\n")
    assert small.check(config) == []
    wrong = small.check("ip address 10.0.0.1 24\ninterface GE1\n network 1 2\n"
                        "ospf 1\n network 10.0.0.0 0.0.0.255\n")
    assert [(u.line_no, u.view) for u in wrong] == [(1, "system"), (3, "interface"),
                                                    (5, "ospf")]


def test_unknown_commands_and_banner_text(small) -> None:
    config = "sysname a\nbanner motd ^\nany text: not a command\n^\ntelnet server enable\n"
    [bad] = small.check(config)
    assert (bad.line_no, bad.line) == (5, "telnet server enable")


@cache
def _examples() -> dict[tuple[str, str], str]:
    loaded = validate([EXAMPLES])
    assert not loaded.report.errors, [d.format() for d in loaded.report.errors]
    topo = loaded.topology
    out = {}
    for path, text in render_tree(topo, parts=("devices",)).files.items():
        _, dc, dev, fname = path.split("/")
        device = next(d for d in topo.datacenters[dc].devices if d.name == dev)
        if device.platform.value == "linux":
            continue  # Linux gear is judged by nft and vtysh themselves (tests/render)
        family = family_of(device.platform.value, device.model)
        if fname == platform(family).kinds[0].config_file:
            out[(f"{dc}/{dev}", family)] = text
    return out


def _example_ids() -> list[tuple[str, str]]:
    return sorted(_examples())


@pytest.mark.parametrize("device, family", _example_ids())
def test_every_rendered_line_is_in_the_family_reference(device: str, family: str) -> None:
    ref = reference(family)
    unmatched = ref.check(_examples()[(device, family)])
    assert not unmatched, (f"{device} ({family}): {len(unmatched)} line(s) match no "
                           f"pattern of their view in {ref.path}:\n"
                           + "\n".join(map(str, unmatched)))
