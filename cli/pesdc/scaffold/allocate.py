"""Address space free in the whole tree, and the blocks a new center takes from it.

Taken is what rule ADDR001 owns (every segment, site, link and uplink subnet of every
center: pesdc.rules.addressing.owned_subnets) plus every single address a center gives
outside those (router loopbacks and ids, management addresses): a block is free when
none of them falls in it. One sort and one sweep over the taken intervals finds the
first free block of a pool, so a national tree of ~50,000 subnets costs O(n log n).
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass

from pesdc.model.schema import DataCenter
from pesdc.model.tree import Topology
from pesdc.rules.addressing import owned_subnets

Net = ipaddress.IPv4Network
# Where a center block is looked for, in order (RFC 1918).
BLOCK_POOLS = (Net("10.0.0.0/8"), Net("172.16.0.0/12"), Net("192.168.0.0/16"))


@dataclass(frozen=True)
class Taken:
    """The tree's taken IPv4 intervals, sorted by start (``[start, end]`` inclusive)."""

    starts: list[int]
    ends: list[int]

    def free(self, net: Net) -> bool:
        """No taken interval meets ``net``."""
        lo, hi = int(net.network_address), int(net.broadcast_address)
        i = bisect.bisect_right(self.starts, hi)  # intervals starting at or before hi
        # The widest end among them decides; ends are kept as a running maximum.
        return i == 0 or self.ends[i - 1] < lo

    def first_free(self, pool: Net, prefixlen: int, prefer: Net | None = None
                   ) -> Net | None:
        """``prefer`` when it is free and inside ``pool``, else the lowest free block of
        that size in ``pool``; None when the pool is full."""
        if prefer is not None and prefer.subnet_of(pool) and self.free(prefer):
            return prefer
        size = 1 << (32 - prefixlen)
        cand, last = int(pool.network_address), int(pool.broadcast_address)
        i = max(bisect.bisect_right(self.starts, cand) - 1, 0)
        while cand + size - 1 <= last:
            # skip intervals wholly before the candidate
            while i < len(self.starts) and self.ends[i] < cand:
                i += 1
            if i == len(self.starts) or self.starts[i] > cand + size - 1:
                return Net((cand, prefixlen))
            cand = (self.ends[i] // size + 1) * size  # past the interval, aligned
        return None


def taken(topo: Topology) -> Taken:
    """Every IPv4 subnet and address a center of the tree holds, as sorted intervals."""
    spans: list[tuple[int, int]] = []
    for net in owned_subnets(topo):
        if net.version == 4:
            spans.append((int(net.network_address), int(net.broadcast_address)))
    for dc in topo.datacenters.values():
        for addr in _addresses(dc):
            ip = ipaddress.ip_address(addr)
            if ip.version == 4:
                spans.append((int(ip), int(ip)))
    return from_spans(spans)


def from_spans(spans: list[tuple[int, int]]) -> Taken:
    """Taken intervals, sorted, each end the running maximum (free() reads one entry)."""
    starts, ends, widest = [], [], -1
    for s, e in sorted(spans):
        widest = max(widest, e)
        starts.append(s)
        ends.append(widest)
    return Taken(starts, ends)


def _addresses(dc: DataCenter) -> list[str]:
    out: list[str] = []
    for dev in dc.devices:
        out += [a for a in (dev.mgmt, dev.loopback) if a]
        if dev.ospf is not None and dev.ospf.router_id:
            out.append(dev.ospf.router_id)
        out += [i.address for i in dev.interfaces if i.address]
    out += [s.address for s in dc.servers if s.address]
    out += [s.router for s in dc.sites if s.router]
    return out


def center_block(space: Taken, prefer: Net | None, prefixlen: int = 16) -> Net | None:
    """A free block for a new center: ``prefer`` if free, else the first free one of the
    private pools."""
    for pool in BLOCK_POOLS:
        if prefixlen < pool.prefixlen:
            continue
        got = space.first_free(pool, prefixlen, prefer)
        if got is not None:
            return got
    return None


def uplink_pool(nets: list[Net]) -> Net | None:
    """The backbone the uplinks ``nets`` come from: the smallest block holding all of
    them, at least a /24 (a tree numbers its uplinks /30 by /30 from one range)."""
    if not nets:
        return None
    lo = min(int(n.network_address) for n in nets)
    hi = max(int(n.broadcast_address) for n in nets)
    plen = 24
    while plen > 8:
        pool = Net((lo, plen), strict=False)
        if int(pool.broadcast_address) >= hi:
            return pool
        plen -= 1
    return Net((lo, 8), strict=False)


def uplink_subnet(space: Taken, pool: Net | None) -> Net | None:
    """The first free /30 of the backbone ``pool`` (widened up to a /16 when full)."""
    if pool is None:
        return None
    while True:
        got = space.first_free(pool, 30)
        if got is not None or pool.prefixlen <= 16:
            return got
        pool = pool.supernet()


def host(net: Net, n: int) -> str:
    """The ``n``-th address of ``net`` (0 is the network address)."""
    return str(net.network_address + n)
