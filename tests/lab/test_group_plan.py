"""A multi-center lab's plan, without bringing it up (issue 17): the members, the
uplinks that join them, what a far center kept light leaves out, and what a packet
between two centers is expected to meet (both centers' policies).

PESDC_STATE_DIR is a folder of the test's own: the group's files are written there and
no namespace is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.lab.crossprobe import expected
from pesdc.lab.errors import LabError
from pesdc.lab.group import Group, cross_links, lab_for, member_lab, resolve
from pesdc.lab.plan import build_plan
from pesdc.model import validate
from pesdc.model.tree import Topology
from tests.conftest import ROOT

TREE = ROOT / "topologies"


@pytest.fixture(scope="module")
def topo() -> Topology:
    result = validate([TREE])
    assert result.report.ok, [d.format() for d in result.report.sorted()]
    return result.topology


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path))
    return tmp_path


def test_the_ministry_city_uplink_joins_jinan_and_mohrss_once(topo: Topology) -> None:
    links = cross_links(topo, ["jinan", "mohrss"])
    # Both ends declare the ministry-city uplink (the same subnet): one link.
    assert [(lk.lower, lk.lower_node, lk.lower_addr, lk.upper, lk.upper_node,
             lk.upper_addr, lk.latency_ms) for lk in links] == [
        ("jinan", "rt-2", "10.255.0.6/30", "mohrss", "rt-2", "10.255.0.5/30", 12.0)]
    # Interface names as the lab runs them (a vendor name becomes ethN).
    assert links[0].lower_if == "eth2" and links[0].upper_if.startswith("eth")


def test_a_member_has_no_stand_in_for_a_joined_center(topo: Topology, state: Path) -> None:
    Group("mc", ["jinan", "mohrss"], {"mohrss": ["dxp-1", "jump-1"]}).save()
    plan = build_plan(topo, "jinan", "mc")
    assert plan.lab == member_lab("mc", "jinan") == "mc-jinan"
    assert plan.group == "mc" and plan.joined == frozenset({"mohrss"})
    peers = sorted(k for k in plan.nodes if k.startswith("uplink:"))
    assert peers == ["uplink:up-shandong"]  # shandong is not in the lab: its stand-in
    assert all(n.netns.startswith("pesdc-mc-jinan-") for n in plan.nodes.values())
    # The hosts route the other center's zones through their gateways.
    web = plan.nodes["dxp-1"]
    assert ("10.0.20.0/24", web.routes[0][1]) in web.routes
    far = build_plan(topo, "mohrss", "mc")
    servers = sorted(n.name for n in far.nodes.values() if n.role == "server")
    assert servers == ["dxp-1", "jump-1"]
    assert "dxp-2" in far.left_out and "dxp-1" not in far.left_out
    # The same plan from the member's own name.
    assert build_plan(topo, "jinan", "mc-jinan").lab == "mc-jinan"


def test_a_center_not_in_the_lab_is_refused(topo: Topology, state: Path) -> None:
    Group("mc", ["jinan", "mohrss"]).save()
    with pytest.raises(LabError, match="holds jinan, mohrss, not zibo"):
        lab_for("mc", "zibo")
    assert resolve("plain", "zibo") == ("plain", None)  # not a group: the lab itself


def test_between_centers_both_policies_decide(topo: Topology) -> None:
    jinan = build_plan(topo, "jinan", "x").facts.policy
    mohrss = build_plan(topo, "mohrss", "x").facts.policy
    # Nothing of the ministry reaches the city's production database port.
    assert not expected(mohrss, "exchange", jinan, "production", "tcp", 5432,
                        "10.0.20.21", "10.1.11.11")
    # A closed port is closed both ways.
    assert not expected(jinan, "exchange", mohrss, "exchange", "tcp", 7,
                        "10.1.20.21", "10.0.20.21")


def test_an_upper_center_without_an_interface_for_the_uplink_is_named(
        tmp_path: Path) -> None:
    """The tree with the ministry's end of the ministry-city uplink taken out: joining
    jinan and mohrss names the uplink and the interface to add."""
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    f = tree / "ministry" / "mohrss.yaml"
    lines = f.read_text().splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if "uplink: up-jinan" in ln)
    assert "description" in lines[at + 1]  # the entry's second line
    f.write_text("".join(lines[:at] + lines[at + 2:]))
    topo = validate([tree]).topology
    with pytest.raises(LabError, match=r"mohrss has no interface for jinan's uplink "
                                       r"up-mohrss: add \{name: IFNAME, downlink: "
                                       r"jinan/up-mohrss\}"):
        cross_links(topo, ["jinan", "mohrss"])
