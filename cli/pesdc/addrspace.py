"""Free host addresses of a subnet, by arithmetic.

An IPv6 /64 holds 2**64 addresses and an IPv4 /8 sixteen million: nothing here lists a
subnet. The free count is the host span minus the used addresses inside it, and free
addresses are found by walking the span lazily past the used ones (at most
``len(used) + 1`` steps to the first free one).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_bounds(net: Net) -> tuple[int, int]:
    """First and last host address as integers, the same span ``net.hosts()`` yields."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.prefixlen >= net.max_prefixlen - 1:
        return first, last  # /31, /32 (/127, /128): point-to-point, every address is a host
    if net.version == 4:
        return first + 1, last - 1  # no network or broadcast address
    return first + 1, last  # IPv6 only keeps the Subnet-Router anycast address out


def _taken(net: Net, used: Iterable[Addr], first: int, last: int) -> set[int]:
    return {int(a) for a in used if a.version == net.version and first <= int(a) <= last}


def count_free(net: Net, used: Iterable[Addr], skip: int = 0) -> int:
    """Host addresses of ``net`` not in ``used``, leaving out the first ``skip`` hosts."""
    first, last = host_bounds(net)
    first += skip
    if first > last:
        return 0
    return last - first + 1 - len(_taken(net, used, first, last))


def iter_free(net: Net, used: Iterable[Addr], skip: int = 0,
              reverse: bool = False) -> Iterator[Addr]:
    """Free host addresses in order (from the top with ``reverse``), one at a time."""
    first, last = host_bounds(net)
    first += skip
    taken = _taken(net, used, first, last)
    span = range(last, first - 1, -1) if reverse else range(first, last + 1)
    make = type(net.network_address)  # ip_address(int) would make small IPv6 ints IPv4
    return (make(n) for n in span if n not in taken)
