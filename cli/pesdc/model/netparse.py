"""Addresses and subnets parsed once per process.

The schema checks every address and subnet of a tree, the addressing rules parse them
again, and render and audit again per center: on the national tree that is a quarter
of a million parses of the same few strings. ``ipaddress`` objects are immutable, so
one object per string is shared by all of them (and its cached properties, such as
``broadcast_address``, are computed once too). Errors are not cached: a bad string
raises ValueError on every call, as ``ipaddress`` does.
"""

from __future__ import annotations

import ipaddress
from functools import cache

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


@cache
def network(value: str) -> Net:
    """``ipaddress.ip_network(value)`` (strict: host bits set is a ValueError)."""
    return ipaddress.ip_network(value)


@cache
def address(value: str) -> Addr:
    """``ipaddress.ip_address(value)``."""
    return ipaddress.ip_address(value)
