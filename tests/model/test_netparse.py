"""pesdc.model.netparse against the judge it stands in for: ``ipaddress`` itself.

Every fast path must give ipaddress's own result, and decline (None) whatever it cannot
judge, on generated input: canonical and odd spellings, masks contiguous or not, lists
of networks that overlap, nest, touch and are apart."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from pesdc.model import netparse
from pesdc.render.readback import mask_net, nets

octet = st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "256", "-1",
                                                                  "1a", "", " 1", "٣"]))
address = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.lists(octet, min_size=3, max_size=5).map(".".join),
    st.sampled_from(["::1", "2001:db8::", "fe80::1%eth0", "1.2.3.4 "]))
mask = st.one_of(
    st.integers(0, 32).map(str),
    st.integers(0, 32).map(lambda p: str(ipaddress.IPv4Network(f"0.0.0.0/{p}").netmask)),
    st.integers(0, 32).map(lambda p: str(ipaddress.IPv4Network(f"0.0.0.0/{p}").hostmask)),
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.sampled_from(["024", "33", "-1", "", "255.255.255.0 ", "64", "٢٤"]))


def _ipaddress_mask_net(addr: str, m: str) -> str | None:
    try:
        return str(ipaddress.ip_network(f"{addr}/{m}", strict=False))
    except ValueError:
        return None


@settings(max_examples=1500)
@given(address, mask)
def test_loose_ipv4_is_ipaddress_or_declines(addr: str, m: str) -> None:
    want = _ipaddress_mask_net(addr, m)
    fast = netparse.loose_ipv4(addr, m)
    if fast is not None:
        assert netparse.ipv4_text(*fast) == want
    try:
        got = mask_net(addr, m)
    except ValueError:
        got = None
    assert got == want


def test_the_common_forms_take_the_fast_path() -> None:
    """The forms pesdc renders are judged by integers, not declined (else no gain)."""
    assert netparse.loose_ipv4("10.1.2.3", "255.255.255.0") == (0x0A010200, 24)
    assert netparse.loose_ipv4("10.1.2.3", "24") == (0x0A010200, 24)
    assert netparse.loose_ipv4("0.0.0.0", "0") == (0, 0)
    assert netparse.loose_ipv4("10.1.2.3", "0.0.0.255") is None  # a host mask: ipaddress
    assert netparse.loose_ipv4("010.1.2.3", "24") is None


def _block(draw: st.DrawFn) -> str:
    prefix = draw(st.integers(0, 32))
    # Few distinct bases so that blocks overlap, nest and touch.
    base = draw(st.sampled_from([0x0A000000, 0x0A000100, 0x0A0000FF, 0xC0A80000,
                                 0xFFFFFFFF, 0, 0x0A010000]))
    shift = draw(st.integers(0, 300)) << draw(st.integers(0, 24))
    n = (base + shift) % 2**32
    return f"{ipaddress.IPv4Address(n)}/{prefix}"


blocks = st.lists(st.composite(_block)(), max_size=12)


@settings(max_examples=1500)
@given(blocks)
def test_collapse_is_ipaddress_collapse(values: list[str]) -> None:
    want = tuple(str(n) for n in ipaddress.collapse_addresses(
        ipaddress.ip_network(v, strict=False) for v in values))
    assert nets(values) == want
    ints = [netparse.loose_ipv4(*v.split("/")) for v in values]
    assert None not in ints
    assert tuple(netparse.ipv4_text(n, p)
                 for n, p in netparse.collapse_ipv4(ints)) == want  # type: ignore[arg-type]


def test_mixed_lists_still_collapse_as_ipaddress_does() -> None:
    values = ["10.0.0.0/25", "10.0.0.128/25", "2001:db8::/33", "2001:db8:8000::/33",
              "192.168.1.7"]
    assert nets(values) == ("10.0.0.0/24", "192.168.1.7/32", "2001:db8::/32")


def _ipaddress_net_facts(cidr: str) -> dict[str, object]:
    net = ipaddress.ip_network(cidr)
    return {"cidr": str(net), "network": str(net.network_address),
            "prefixlen": net.prefixlen, "netmask": str(net.netmask),
            "wildcard": str(net.hostmask)}


subnets = st.one_of(
    st.builds(lambda n, p: str(ipaddress.IPv4Network((n, p), strict=False)),
              st.integers(0, 2**32 - 1), st.integers(0, 32)),
    st.builds(lambda n, p: str(ipaddress.IPv6Network((n, p), strict=False)),
              st.integers(0, 2**128 - 1), st.integers(0, 128)))


@settings(max_examples=1000)
@given(subnets)
def test_a_subnets_template_facts_are_ipaddress_own(cidr: str) -> None:
    from pesdc.render.context import _net_facts
    assert _net_facts(cidr) == _ipaddress_net_facts(cidr)
