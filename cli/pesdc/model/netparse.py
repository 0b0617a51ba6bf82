"""Addresses and subnets parsed once per process.

The schema checks every address and subnet of a tree, the addressing rules parse them
again, and render and audit again per center: on the national tree that is a quarter
of a million parses of the same few strings. ``ipaddress`` objects are immutable, so
one object per string is shared by all of them (and its cached properties, such as
``broadcast_address``, are computed once too). Errors are not cached: a bad string
raises ValueError on every call, as ``ipaddress`` does.

A dotted-quad IPv4 string in canonical form (no leading zeros, octets up to 255, a
prefix length 0-32 without leading zeros) is turned into its integer here and the
object built from that integer: ``ipaddress``'s own string parser is most of the cost
of a national tree's addressing rules when the validated models come from the cache.
The object is the one ``ipaddress`` builds from the string; anything else (IPv6, an
unusual spelling, host bits set, a bad string) goes to ``ipaddress`` itself, so every
result and every error is exactly its own.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import cache

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ipv4_int(value: str, want_prefix: bool) -> tuple[int, int] | None:
    """(address as an integer, prefix length or -1) of a canonical IPv4 string, or
    None when ``ipaddress`` must judge it. ``inet_pton`` takes exactly four decimal
    octets of 0-255 without leading zeros (the ISC parser of glibc and the BSDs)."""
    addr, slash, prefix = value.partition("/")
    if slash:
        if not want_prefix or not prefix.isdigit() or not prefix.isascii() or \
                (prefix[0] == "0" and prefix != "0") or len(prefix) > 2 or int(prefix) > 32:
            return None
    elif want_prefix:
        return None
    if not addr.isascii() or addr.count(".") != 3:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET, addr)
    except OSError:
        return None
    return int.from_bytes(packed, "big"), int(prefix) if slash else -1


@cache
def _subnet_quad(value: str) -> tuple[int, int] | None:
    """``_ipv4_int(value, True)``, once per string for network, span and the schema."""
    return _ipv4_int(value, True)


@cache
def network(value: str) -> Net:
    """``ipaddress.ip_network(value)`` (strict: host bits set is a ValueError)."""
    quad = _subnet_quad(value)
    if quad is not None:
        n, prefix = quad
        host_bits = (1 << (32 - prefix)) - 1
        if not n & host_bits:
            return ipaddress.IPv4Network((n, prefix))
    return ipaddress.ip_network(value)


@cache
def address(value: str) -> Addr:
    """``ipaddress.ip_address(value)``."""
    quad = _ipv4_int(value, False)
    if quad is not None:
        return ipaddress.IPv4Address(quad[0])
    return ipaddress.ip_address(value)


@cache
def span(value: str) -> tuple[int, int, int, int]:
    """(IP version, first address, last address, prefix length) of the subnet
    ``network(value)``, as integers, without building the object for a canonical IPv4
    subnet (an overlap sweep over a national tree needs nothing else)."""
    quad = _subnet_quad(value)
    if quad is not None:
        n, prefix = quad
        host_bits = (1 << (32 - prefix)) - 1
        if not n & host_bits:
            return 4, n, n | host_bits, prefix
    net = network(value)
    return (net.version, int(net.network_address), int(net.broadcast_address),
            net.prefixlen)


@cache
def address_int(value: str) -> tuple[int, int]:
    """(IP version, integer) of ``address(value)``, without building the object for a
    canonical IPv4 address (the addressing rules compare integers)."""
    quad = _ipv4_int(value, False)
    if quad is not None:
        return 4, quad[0]
    ip = address(value)
    return ip.version, int(ip)


@cache
def is_canonical_subnet(value: str) -> bool:
    """``str(network(value)) == value`` (False where ``network`` refuses the value):
    the schema's test of a subnet as written, without building the object for a
    canonical IPv4 subnet (no leading zeros, no host bits: its text is the object's)."""
    quad = _subnet_quad(value)
    if quad is not None:
        n, prefix = quad
        if not n & ((1 << (32 - prefix)) - 1):
            return True
    try:
        return str(network(value)) == value
    except ValueError:
        return False


# -- loose IPv4 networks (host bits ignored) and their union, as integers ---------------
# A firewall's readback (pesdc.render.readback) turns every address of every rule of
# every firewall into a network and collapses each rule's list: on the national tree
# 94,000 networks and 10,000 lists, most of the readback's time in ``ipaddress``. The
# integer forms below give ``ipaddress``'s own results (tests/model/test_netparse.py
# compares them on generated input); whatever they do not take goes to ``ipaddress``.

_PREFIX_OF_MASK = {((1 << 32) - 1) ^ ((1 << (32 - p)) - 1): p for p in range(33)}


def _prefix(mask: str) -> int | None:
    """The prefix length of a written prefix ("24") or a contiguous netmask
    ("255.255.255.0"), or None (a host mask, a leading zero, anything unusual)."""
    if mask.isdigit() and mask.isascii():
        if (mask[0] == "0" and mask != "0") or len(mask) > 2 or int(mask) > 32:
            return None
        return int(mask)
    quad = _ipv4_int(mask, False)
    return None if quad is None else _PREFIX_OF_MASK.get(quad[0])


def loose_ipv4(addr: str, mask: str) -> tuple[int, int] | None:
    """(network as an integer, prefix length) of ``ip_network(f"{addr}/{mask}",
    strict=False)`` for a canonical IPv4 address with a prefix or a netmask; None when
    ``ipaddress`` must judge it."""
    quad = _ipv4_int(addr, False)
    prefix = _prefix(mask) if quad is not None else None
    if quad is None or prefix is None:
        return None
    return quad[0] & ~((1 << (32 - prefix)) - 1), prefix


def ipv4_text(n: int, prefix: int | None = None) -> str:
    """``str(IPv4Network((n, prefix)))``, or ``str(IPv4Address(n))`` without a prefix."""
    quad = f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    return quad if prefix is None else f"{quad}/{prefix}"


def collapse_ipv4(networks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ipaddress.collapse_addresses`` of IPv4 networks given as (integer, prefix):
    the largest aligned blocks that make up their union, in address order (a union of
    networks has exactly one such decomposition)."""
    spans = sorted((n, n + (1 << (32 - p)) - 1) for n, p in networks)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        lo, hi = spans[i]
        i += 1
        while i < len(spans) and spans[i][0] <= hi + 1:  # overlapping or adjacent
            hi = max(hi, spans[i][1])
            i += 1
        while lo <= hi:  # the range as blocks, each as large as its alignment allows
            size = (lo & -lo) if lo else 1 << 32
            while size > hi - lo + 1:
                size >>= 1
            out.append((lo, 33 - size.bit_length()))
            lo += size
    return out
