"""Allocation: the blocks a new center takes are free in the whole tree, judged by
ipaddress against every subnet and address the tree holds, not by the allocator."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.model import load, validate
from pesdc.rules.addressing import owned_subnets
from pesdc.scaffold import allocate
from pesdc.scaffold.allocate import Net

from .conftest import ROOT

N = ipaddress.ip_network


def every_net(topo) -> list[ipaddress.IPv4Network]:
    """Subnets and single addresses of the tree, gathered here independently of
    allocate.taken (servers, devices' interfaces, mgmt, loopbacks, site routers)."""
    nets = [n for n in owned_subnets(topo) if n.version == 4]
    for dc in topo.datacenters.values():
        addrs = [s.address for s in dc.servers] + [s.router for s in dc.sites]
        for d in dc.devices:
            addrs += [d.mgmt, d.loopback] + [i.address for i in d.interfaces]
        nets += [N(f"{a}/32") for a in addrs if a and ":" not in a]
    return nets


def spans(*nets: str) -> allocate.Taken:
    return allocate.from_spans([(int(N(n).network_address), int(N(n).broadcast_address))
                                for n in nets])


def test_first_free_skips_taken_and_aligns():
    space = spans("10.0.0.0/16", "10.1.3.7/32")
    assert space.first_free(N("10.0.0.0/8"), 16) == N("10.2.0.0/16")  # 10.1 holds .3.7
    assert space.first_free(N("10.0.0.0/8"), 16, prefer=N("10.9.0.0/16")) == N("10.9.0.0/16")
    assert space.first_free(N("10.0.0.0/8"), 16, prefer=N("10.1.0.0/16")) == N("10.2.0.0/16")
    assert space.first_free(N("10.1.3.0/24"), 30) == N("10.1.3.0/30")
    assert space.first_free(N("10.1.3.4/30"), 30) is None
    assert space.first_free(N("10.0.0.0/16"), 24) is None


def test_a_nested_subnet_does_not_hide_its_wider_one():
    # a /16 with a /24 inside it: a candidate after the /24 is still inside the /16
    space = spans("10.4.0.0/16", "10.5.0.0/16", "10.5.1.0/24")
    assert not space.free(N("10.5.9.0/24"))
    assert space.free(N("10.6.0.0/24"))
    assert space.first_free(N("10.4.0.0/14"), 24) == N("10.6.0.0/24")


def _check_free(topo, *blocks: Net) -> None:
    nets = every_net(topo)
    for block in blocks:
        clash = [n for n in nets if n.overlaps(block)]
        assert not clash, f"{block} overlaps {clash[:5]}"


def test_example_tree_blocks_are_free():
    topo = validate([ROOT / "topologies"]).topology
    space = allocate.taken(topo)
    block = allocate.center_block(space, N("10.7.0.0/16"))
    assert block == N("10.7.0.0/16")
    taken_pref = allocate.center_block(space, N("10.3.0.0/16"))  # zibo's
    assert taken_pref is not None and taken_pref != N("10.3.0.0/16")
    up = allocate.uplink_subnet(space, N("10.255.0.0/24"))
    assert up == N("10.255.0.20/30")  # .0 .4 .8 .12 .16 are the tree's uplinks
    _check_free(topo, block, taken_pref, up)


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national") / "national"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_national.py"),
                          "--out", str(out), "--scale", "0.01"], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.slow
def test_generated_national_tree_blocks_are_free(national):
    topo = load([national]).topology
    assert len(topo.datacenters) > 300
    space = allocate.taken(topo)
    blocks = []
    for prefer in (N("10.7.0.0/16"), N("10.64.0.0/16"), None):
        block = allocate.center_block(space, prefer)
        assert block is not None
        blocks.append(block)
    assert blocks[1] != N("10.64.0.0/16")  # the cities' /21s live there
    ups = [N(u.subnet) for dc in topo.datacenters.values() for u in dc.uplinks if u.subnet]
    up = allocate.uplink_subnet(space, allocate.uplink_pool(ups))
    assert up is not None
    _check_free(topo, *blocks, up)


@pytest.mark.slow
def test_a_new_city_in_the_generated_national_tree(national):
    """The whole path on ~365 centers: its blocks are free there, the proof (validate and
    render with the tree) passes, and gear the tree's defaults give no platform to is
    written as Linux (the generated defaults cover fewer kinds than the example's)."""
    from pesdc.scaffold import Request, create

    topo = load([national]).topology
    done = create(Request("xinzhou", "349000", "anhui", "2", national))
    _check_free(topo, done.block, done.uplink)
    text = done.path.read_text(encoding="utf-8")
    assert "platform: linux" in text
    assert all(d.severity.value == "warning" for d in done.warnings)
