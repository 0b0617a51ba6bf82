"""Free addresses are counted and picked without listing a subnet: an IPv6 /64 and an
IPv4 /8 answer at once, and the answers equal the brute-force ones on small subnets."""

from __future__ import annotations

import ipaddress
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.addrspace import count_free, host_bounds, iter_free
from pesdc.cli.main import main
from pesdc.stages.target import RESERVED_HOSTS, first_free, free_count

STAGE1 = Path(__file__).resolve().parents[1] / "fixtures/stages/stage1"
IP = ipaddress.ip_address


@pytest.mark.parametrize("base", ["10.1.2.0/24", "2001:db8::/120"])
def test_host_bounds_is_the_span_hosts_yields(base: str) -> None:
    top = ipaddress.ip_network(base)
    for prefix in range(top.prefixlen, top.max_prefixlen + 1):
        net = next(top.subnets(new_prefix=prefix))
        hosts = [int(h) for h in net.hosts()]
        assert host_bounds(net) == (hosts[0], hosts[-1]), net
        assert len(hosts) == hosts[-1] - hosts[0] + 1


@pytest.mark.parametrize("subnet,used", [
    ("192.168.5.0/26", ["192.168.5.1", "192.168.5.3", "192.168.5.40", "192.168.5.63",
                        "10.0.0.1", "2001:db8::1"]),
    ("2001:db8:5::/122", ["2001:db8:5::", "2001:db8:5::2", "2001:db8:5::3f", "192.168.5.2"]),
    ("192.168.5.4/31", ["192.168.5.4"]),
    ("192.168.5.4/32", []),
])
def test_counting_and_picking_equal_brute_force(subnet: str, used: list[str]) -> None:
    net = ipaddress.ip_network(subnet)
    taken = {IP(a) for a in used}
    for skip in (0, 1, 9, 200):
        brute = [h for h in list(net.hosts())[skip:] if h not in taken]
        assert count_free(net, taken, skip) == len(brute)
        assert list(iter_free(net, taken, skip)) == brute
        assert list(iter_free(net, taken, skip, reverse=True)) == brute[::-1]


def test_ipv6_slash_64_in_well_under_a_second() -> None:
    subnet = "2001:db8:0:1::/64"
    # the reserved ones (the gateway among them), then a run of used servers
    used = {IP("2001:db8:0:1::1"), *(IP(f"2001:db8:0:1::{i:x}") for i in range(10, 5010))}
    start = time.perf_counter()
    count = free_count(subnet, used)
    first = first_free(subnet, used)
    top = next(iter_free(ipaddress.ip_network(subnet), used, reverse=True))
    elapsed = time.perf_counter() - start
    # hosts are ::1 .. ::ffff:ffff:ffff:ffff; ::1-::9 reserved; ::a-::1391 used
    assert count == 2**64 - 1 - RESERVED_HOSTS - 5000
    assert first == "2001:db8:0:1::1392"
    assert str(top) == "2001:db8:0:1:ffff:ffff:ffff:ffff"
    assert elapsed < 1.0


def test_ipv4_slash_8_in_well_under_a_second() -> None:
    subnet = "10.0.0.0/8"
    used = {IP("10.0.0.1"), IP("10.0.0.10"), IP("10.0.0.11"), IP("10.255.255.254"),
            IP("192.168.0.10")}  # the last is outside: it does not count
    start = time.perf_counter()
    count = free_count(subnet, used)
    first = first_free(subnet, used)
    elapsed = time.perf_counter() - start
    assert count == 2**24 - 2 - RESERVED_HOSTS - 3
    assert first == "10.0.0.12"
    assert elapsed < 1.0


def test_full_segment_has_no_free_address() -> None:
    subnet = "10.9.9.0/28"  # hosts .1-.14; .1-.9 reserved
    used = {IP(f"10.9.9.{i}") for i in range(10, 15)}
    assert free_count(subnet, used) == 0
    assert first_free(subnet, used) is None
    assert free_count("10.9.9.0/30", set()) == 0  # fewer hosts than reserved


def _renumber_prod_app(dst: Path, subnet: str, gateway: str, firewall: str) -> None:
    shutil.copytree(STAGE1, dst)
    city = dst / "dezhou.yaml"
    text = city.read_text("utf-8")
    for old, new in (("10.60.1.0/24", subnet), ("gateway: 10.60.1.1", f"gateway: {gateway}"),
                     ("address: 10.60.1.2", f"address: {firewall}")):
        assert old in text
        text = text.replace(old, new)
    city.write_text(text, "utf-8")


@pytest.mark.parametrize("subnet,gateway,firewall,free,first,second", [
    ("11.0.0.0/8", "11.0.0.1", "11.0.0.2", 2**24 - 2 - RESERVED_HOSTS,
     "11.0.0.10", "11.0.0.11"),
    ("2001:db8:60:1::/64", "2001:db8:60:1::1", "2001:db8:60:1::2",
     2**64 - 1 - RESERVED_HOSTS, "2001:db8:60:1::a", "2001:db8:60:1::b"),
])
def test_stage_plan_on_a_huge_segment(tmp_path: Path, subnet: str, gateway: str,
                                      firewall: str, free: int, first: str,
                                      second: str) -> None:
    tree = tmp_path / "tree"
    _renumber_prod_app(tree, subnet, gateway, firewall)
    out = tmp_path / "rb.md"
    start = time.perf_counter()
    res = CliRunner().invoke(main, ["stage", "plan", str(tree), "--to", "2", "--lang", "en",
                                    "-o", str(out)], catch_exceptions=False)
    elapsed = time.perf_counter() - start
    assert res.exit_code == 0, res.output
    text = out.read_text("utf-8")
    assert f"{free} free address(es)" in text
    assert f"mis-old-1 {first}, mis-old-2 {second}" in text
    assert elapsed < 10  # the whole command, validation and runbook included
