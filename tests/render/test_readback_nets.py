"""The readback's networks on integers (``mask_net``, ``nets``) are exactly what
``ipaddress`` makes of the same strings: the same text, the same collapsed cover, and
the same ValueError for a string it refuses."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pesdc.render import readback as rb


def _mask_net_reference(addr: str, mask: str) -> str:
    return str(ipaddress.ip_network(f"{addr}/{mask}", strict=False))


def _same(fast: Callable[..., object], slow: Callable[..., object], *args: Any) -> None:
    try:
        want = slow(*args)
    except ValueError:
        with pytest.raises(ValueError):
            fast(*args)
        return
    assert fast(*args) == want, args


ODD_ADDRS = ["10.1.2.3", "0.0.0.0", "255.255.255.255", "010.1.2.3", "10.1.2", "10.1.2.3.4",
             "256.1.1.1", "1.2.3.04", "１.2.3.4", "10.1.2.3/8", " 10.1.2.3", "::1", "fe80::",
             "a.b.c.d", "", "1..2.3", "4294967295", "10.0.0.0 "]
ODD_MASKS = ["255.255.255.0", "0.0.0.0", "255.255.255.255", "24", "0", "32", "33", "08",
             "0.0.0.255", "255.0.255.0", "255.255.255.1", "255.255.254.0", "/24", "",
             "255.255.255.00", "64", "ffff::"]


def test_mask_net_is_ipaddress_on_odd_strings() -> None:
    for addr in ODD_ADDRS:
        for mask in ODD_MASKS:
            _same(rb.mask_net.__wrapped__, _mask_net_reference, addr, mask)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_mask_net_is_ipaddress_on_every_netmask(n: int, prefix: int) -> None:
    addr = str(ipaddress.IPv4Address(n))
    mask = str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)
    assert rb.mask_net.__wrapped__(addr, mask) == _mask_net_reference(addr, mask)


def _random_nets(rng: random.Random) -> tuple[str, ...]:
    """Networks that overlap, nest, touch and repeat, inside a few small areas (so the
    collapsing has work to do), with host bits set now and then."""
    base = rng.choice([0, 10 << 24, 0xC0A80000, 0xFFFFFF00, 0x64480000])
    out = []
    for _ in range(rng.randint(0, 40)):
        prefix = rng.choice([0, 1, 8, 16, 20, 22, 23, 24, 25, 26, 27, 28, 30, 31, 32])
        n = (base + rng.randrange(0, 1 << 12)) % (1 << 32)
        if rng.random() < 0.7:
            n &= ~((1 << (32 - prefix)) - 1)
        out.append(f"{ipaddress.IPv4Address(n)}/{prefix}")
    return tuple(out)


def test_nets_collapse_as_ipaddress_does() -> None:
    rng = random.Random(19)
    for _ in range(3000):
        values = _random_nets(rng)
        assert rb._collapsed.__wrapped__(values) == rb._collapsed_by_ipaddress(values), values


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)), max_size=30))
def test_nets_collapse_as_ipaddress_does_anywhere(pairs: list[tuple[int, int]]) -> None:
    values = tuple(f"{ipaddress.IPv4Address(n)}/{p}" for n, p in pairs)
    assert rb._collapsed.__wrapped__(values) == rb._collapsed_by_ipaddress(values)


def test_nets_of_other_spellings_are_ipaddress_s() -> None:
    cases = [("10.0.0.1",), ("10.0.0.0/255.255.255.0",), ("10.0.0.0/08",), ("::1/128",),
             ("10.0.0.0/24", "fe80::/64", "10.0.1.0/24"), ("10.0.0.0/33",), ("x",),
             ("010.0.0.0/8",), ()]
    for values in cases:
        _same(rb._collapsed.__wrapped__, rb._collapsed_by_ipaddress, values)


def _net_facts_reference(cidr: str) -> dict[str, object]:
    net = ipaddress.ip_network(cidr)
    return {"cidr": str(net), "network": str(net.network_address),
            "prefixlen": net.prefixlen, "netmask": str(net.netmask),
            "wildcard": str(net.hostmask)}


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_net_facts_are_ipaddress_s(n: int, prefix: int) -> None:
    from pesdc.render.context import _net_facts

    n &= ~((1 << (32 - prefix)) - 1)
    cidr = f"{ipaddress.IPv4Address(n)}/{prefix}"
    assert _net_facts.__wrapped__(cidr) == _net_facts_reference(cidr)


def test_net_facts_of_other_spellings_are_ipaddress_s() -> None:
    from pesdc.render.context import _net_facts

    for cidr in ["10.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/08",
                 "2001:db8::/32", "10.0.0.1/24", "010.0.0.0/8", "10.0.0.0/33", "x"]:
        _same(_net_facts.__wrapped__, _net_facts_reference, cidr)
