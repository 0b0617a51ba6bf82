"""Linux gear (what the lab runs) checked by the real parsers: nft and FRR's vtysh."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.kinds import kind_of
from pesdc.render import render_device_files
from tests.conftest import require_tool

from .conftest import needs_root, run

LINUX_DEVICES = ["fw-1", "fw-2", "gk-1", "rt-1", "core-1"]


@pytest.fixture(scope="module")
def rendered(weihai_facts):
    out: dict[str, dict[str, str]] = {}
    problems: list = []
    for name in LINUX_DEVICES:
        out[name] = render_device_files(weihai_facts, name, problems)
    assert problems == []
    return out


@pytest.mark.lab
@pytest.mark.parametrize("device", ["fw-1", "fw-2", "gk-1"])
def test_nft_accepts_ruleset_in_scratch_namespace(rendered, tmp_path: Path, device: str):
    needs_root()
    f = tmp_path / "nftables.conf"
    f.write_text(rendered[device]["nftables.conf"])
    res = run(["unshare", "--net", "nft", "-c", "-f", str(f)])
    assert res.returncode == 0, res.stderr


@pytest.mark.lab
def test_nft_check_catches_a_broken_ruleset(rendered, tmp_path: Path):
    """The checker is real: the same ruleset with one broken rule is refused."""
    needs_root()
    f = tmp_path / "nftables.conf"
    f.write_text(rendered["fw-1"]["nftables.conf"].replace("tcp dport { 22 }",
                                                           "tcp dport { ssh-nope }"))
    res = run(["unshare", "--net", "nft", "-c", "-f", str(f)])
    assert res.returncode != 0


def test_frr_config_passes_vtysh_dryrun(rendered, tmp_path: Path):
    require_tool("vtysh", "Debian frr")
    f = tmp_path / "frr.conf"
    f.write_text(rendered["rt-1"]["frr.conf"])
    res = run(["vtysh", "-C", "-f", str(f)])
    assert res.returncode == 0, res.stdout + res.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text(rendered["rt-1"]["frr.conf"].replace("ospf router-id", "ospf router-idd"))
    assert run(["vtysh", "-C", "-f", str(bad)]).returncode != 0


def test_firewall_policy_is_default_deny_with_each_flow(rendered):
    text = rendered["fw-1"]["nftables.conf"]
    assert text.count("policy drop;") == 2  # input and forward
    assert "agencies-to-mis" in text and "dport { 8080 }" in text
    # The gatekeeper pair is not the firewall's to carry: exchange -> production is
    # only on the gatekeeper, so the firewall has no rule for it.
    assert "dx-to-mis" not in text
    assert "dx-to-mis" in rendered["gk-1"]["nftables.conf"]


def test_gatekeeper_is_one_way_relay(rendered):
    text = rendered["gk-1"]["nftables.conf"]
    assert ("ip saddr { 10.50.2.10/32 } ip daddr 10.50.2.5 tcp dport 8080 "
            "dnat to 10.50.1.10:8080") in text
    forward = text.split("chain forward")[1].split("chain output")[0]
    # Only exchange-side sources are accepted; nothing from production starts a flow.
    accepts = [line for line in forward.splitlines() if "accept" in line and "saddr" in line]
    assert accepts and all("ip saddr { 10.50.2." in line for line in accepts)


def test_router_routes_sites_and_zones(rendered):
    text = rendered["rt-1"]["frr.conf"]
    assert "ip route 10.50.101.0/27 10.50.250.2" in text  # the station behind huancui
    assert "ip route 10.50.1.0/24 10.50.8.1" in text  # production via the firewall VIP
    assert "ip route 10.50.9.0/24" not in text  # connected: the router has a mgmt leg
    assert "network 10.50.8.0/24 area 0.0.0.0" in text


def test_vrrp_pair_renders_keepalived(rendered):
    k1 = rendered["fw-1"]["keepalived.conf"]
    assert "virtual_router_id 10" in k1 and "10.50.1.1/24 dev eth1" in k1
    assert "priority 200" in k1
    assert "priority 100" in rendered["fw-2"]["keepalived.conf"]
    assert "keepalived.conf" not in rendered["gk-1"]  # no VRRP there: no file


def test_kinds_come_from_the_registry(labcity):
    dc = labcity.datacenters["weihai"]
    kinds = {d.name: kind_of(d).name for d in dc.devices}
    assert kinds["fw-1"] == "linux_nftables" and kinds["gk-1"] == "linux_nftables"
    assert kinds["rt-1"] == "linux_frr" and kinds["core-1"] == "linux_host"
