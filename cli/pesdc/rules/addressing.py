"""Addressing across the whole tree: no overlaps, addresses inside their segments.

Overlap detection sorts every subnet of the tree once and sweeps it, so a national
tree of ~50,000 subnets costs O(n log n), not O(n^2).
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pesdc.i18n import N_
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.netparse import address_int, network, span
from pesdc.model.schema import DataCenter, Strict
from pesdc.model.tree import Topology
from pesdc.rules.cache import center_data
from pesdc.rules.registry import at, center_rule, problem, rule

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(slots=True)
class _Owned:
    """A subnet of the tree and what owns it. The sweep needs only its integer span;
    the ipaddress object, the label and the place are made for a problem only."""

    subnet: str
    kind: str
    center: str
    obj: Strict

    @property
    def net(self) -> Net:
        return network(self.subnet)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.center}/{self.obj.name}"  # type: ignore[attr-defined]

    @property
    def where(self) -> tuple[str, tuple[Any, ...]]:
        return at(self.obj, "subnet")


def _center_owned(dc: DataCenter) -> list[_Owned]:
    """A center's own subnets: its segments, then its sites' and links' subnets."""
    out: list[_Owned] = []
    for z in dc.zones:
        for s in z.segments:
            out.append(_Owned(s.subnet, "segment", dc.name, s))
    for site in dc.sites:
        if site.subnet:
            out.append(_Owned(site.subnet, "site", dc.name, site))
    for lk in dc.links:
        if lk.subnet:
            out.append(_Owned(lk.subnet, "link", dc.name, lk))
    return out


def _center_spans(dc: DataCenter) -> list[tuple[int, int, int, int]]:
    """``span`` of each of ``_center_owned(dc)``, in its order (plain data: the rule
    cache keeps it per center, pesdc.rules.cache), without making the objects."""
    out = [span(s.subnet) for z in dc.zones for s in z.segments]
    out += [span(site.subnet) for site in dc.sites if site.subnet]
    out += [span(lk.subnet) for lk in dc.links if lk.subnet]
    return out


def _uplinks_owned(topo: Topology) -> list[_Owned]:
    # An uplink joins two centers and both may describe it: the same subnet for the
    # same pair of centers is one uplink, counted once.
    out: list[_Owned] = []
    uplinks: set[tuple[str, frozenset[str]]] = set()
    for dc in topo.datacenters.values():
        for up in dc.uplinks:
            key = (up.subnet or "", frozenset((dc.name, up.peer)))
            if up.subnet and key not in uplinks:
                uplinks.add(key)
                out.append(_Owned(up.subnet, "uplink", dc.name, up))
    return out


def _subnets(topo: Topology) -> list[_Owned]:
    out = [o for dc in topo.datacenters.values() for o in _center_owned(dc)]
    return out + _uplinks_owned(topo)


def owned_subnets(topo: Topology) -> list[Net]:
    """Every subnet ADDR001 judges (segments, sites, links, uplinks once): what a new
    center must stay clear of (pesdc.scaffold.allocate)."""
    return [o.net for o in _subnets(topo)]


class _Owners:
    """The subnets ADDR001 judges, in ``_subnets`` order, as spans; the one at a place
    in that order is made (an ``_Owned``) only for a problem."""

    def __init__(self, topo: Topology):
        self.spans: list[tuple[int, int, int, int]] = []
        self.starts: list[int] = []
        self.centers = list(topo.datacenters.values())
        for dc in self.centers:
            self.starts.append(len(self.spans))
            self.spans.extend(center_data(topo, dc, "ADDR001 spans", _center_spans))
        self.uplinks = _uplinks_owned(topo)
        self.uplinks_start = len(self.spans)
        self.spans.extend(span(o.subnet) for o in self.uplinks)
        self._made: dict[int, list[_Owned]] = {}

    def __getitem__(self, i: int) -> _Owned:
        if i >= self.uplinks_start:
            return self.uplinks[i - self.uplinks_start]
        block = bisect_right(self.starts, i) - 1  # the last center starting at or before
        if block not in self._made:
            self._made[block] = _center_owned(self.centers[block])
        return self._made[block][i - self.starts[block]]


@rule("ADDR001", "subnet-overlap", "two subnets of the tree overlap or repeat")
def overlaps(topo: Topology) -> Iterator[Diagnostic]:
    owners = _Owners(topo)
    spans = owners.spans
    for version in (4, 6):
        # (first address, prefix length) order, as the subnets' own: equal subnets are
        # equal spans, and a wider one comes before the ones it covers. Stable: ties keep
        # the order of _subnets.
        # One integer per subnet, (first, prefix length, place) packed: sorted as ints.
        keys = sorted((((sp[1] << 8) | sp[3]) << 32) | i for i, sp in enumerate(spans)
                      if sp[0] == version)
        open_: tuple[tuple[int, int, int, int], int] | None = None  # widest still open
        for key in keys:
            i = key & 0xFFFFFFFF
            sp = spans[i]
            if open_ is not None and sp[1] <= open_[0][2]:
                item, other = owners[i], owners[open_[1]]
                same = sp[1] == open_[0][1] and sp[3] == open_[0][3]
                yield problem("ADDR001", item.where,
                              N_("{item} {net} repeats {other} {other_net}") if same else
                              N_("{item} {net} overlaps {other} {other_net}"),
                              N_("give each segment, site and link its own subnet from the "
                                 "address plan"),
                              item=item.label, net=item.net, other=other.label,
                              other_net=other.net)
                if sp[2] > open_[0][2]:
                    open_ = (sp, i)
            else:
                open_ = (sp, i)


def _inside(addr: str, subnet: str) -> bool:
    """``addr`` is a host address of ``subnet`` (a subnet's network and broadcast
    addresses are not, below /31), as ``ipaddress`` judges it, on integers: a national
    tree has some 65,000 of them to judge."""
    version, ip = address_int(addr)
    net_version, first, last, prefix = span(subnet)
    if version != net_version or not first <= ip <= last:
        return False
    if version == 4 and prefix < 31:
        return ip != first and ip != last
    return True


@center_rule("ADDR002", "address-outside-segment", "a host address is not inside its subnet")
def outside(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    idx = topo.index(dc)
    for srv in dc.servers:
        if srv.segment in idx.segments:
            subnet = idx.segments[srv.segment].subnet
            if not _inside(srv.address, subnet):
                yield problem("ADDR002", at(srv, "address"),
                              N_("address {address} of {server} is not a host address "
                                 "of segment {segment} ({net})"),
                              N_("pick a free host address in {net}"),
                              address=srv.address, server=srv.name, segment=srv.segment,
                              net=network(subnet))
        elif srv.location in idx.machine_rooms:
            room = idx.machine_rooms[srv.location]
            if room.subnet and not _inside(srv.address, room.subnet):
                yield problem("ADDR002", at(srv, "address"),
                              N_("address {address} of {server} is not in machine room "
                                 "{room}'s subnet {subnet}"),
                              N_("pick a host address in {subnet}"),
                              address=srv.address, server=srv.name, room=room.name,
                              subnet=room.subnet)
    for dev in dc.devices:
        for i, itf in enumerate(dev.interfaces):
            inet = _interface_subnet(idx, itf)
            if itf.address and inet is not None and not _inside(itf.address, inet):
                yield problem("ADDR002", at(dev, "interfaces", i, "address"),
                              N_("{device} {interface} address {address} is not a host "
                                 "address of {net}"), N_("pick an address in {net}"),
                              device=dev.name, interface=itf.name, address=itf.address,
                              net=network(inet))
    for site in dc.sites:
        if site.router and site.subnet and not _inside(site.router, site.subnet):
            yield problem("ADDR002", at(site, "router"),
                          N_("router {router} of site {site} is not in its subnet {net}"),
                          N_("pick an address in {net}"),
                          router=site.router, site=site.name, net=site.subnet)
    for lk in dc.links:
        for key in ("a_address", "b_address"):
            addr = getattr(lk, key)
            if addr and lk.subnet and not _inside(addr, lk.subnet):
                yield problem("ADDR002", at(lk, key),
                              N_("{key} {address} of link {link} is not in {net}"),
                              N_("pick an address in {net}"),
                              key=key, address=addr, link=lk.name, net=lk.subnet)
    for up in dc.uplinks:
        for key in ("local_address", "peer_address"):
            addr = getattr(up, key)
            if addr and up.subnet and not _inside(addr, up.subnet):
                yield problem("ADDR002", at(up, key),
                              N_("{key} {address} of uplink {uplink} is not in {net}"),
                              N_("pick an address in {net}"),
                              key=key, address=addr, uplink=up.name, net=up.subnet)


def _interface_subnet(idx: Any, itf: Any) -> str | None:
    if itf.segment and itf.segment in idx.segments:
        return str(idx.segments[itf.segment].subnet)
    if itf.link and itf.link in idx.links and idx.links[itf.link].subnet:
        return str(idx.links[itf.link].subnet)
    if itf.uplink and itf.uplink in idx.uplinks and idx.uplinks[itf.uplink].subnet:
        return str(idx.uplinks[itf.uplink].subnet)
    return None


@center_rule("ADDR003", "duplicate-address", "one address given to two hosts or interfaces")
def duplicates(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    # Per center: the same private address may legitimately recur in other centers'
    # out-of-band management networks, but never inside one center.
    seen: dict[str, tuple[str, Strict]] = {}

    def claim(addr: str | None, label: str, obj: Strict, *field: Any,
              seen: dict[str, tuple[str, Strict]] = seen) -> Iterator[Diagnostic]:
        if not addr:
            return
        if addr in seen:
            first_label, _ = seen[addr]
            yield problem("ADDR003", at(obj, *field),
                          N_("address {address} of {item} is already used by {first}"),
                          N_("give each host and interface its own address"),
                          address=addr, item=label, first=first_label)
        else:
            seen[addr] = (label, obj)

    for z in dc.zones:
        for s in z.segments:
            yield from claim(s.gateway, f"gateway of segment {s.name}", s, "gateway")
    for srv in dc.servers:
        yield from claim(srv.address, f"server {srv.name}", srv, "address")
    for dev in dc.devices:
        own: set[str] = set()
        for i, itf in enumerate(dev.interfaces):
            if itf.address and itf.address != dev.mgmt:
                own.add(itf.address)
                yield from claim(itf.address, f"{dev.name} {itf.name}", dev,
                                 "interfaces", i, "address")
        if dev.mgmt not in own:
            yield from claim(dev.mgmt, f"device {dev.name} (mgmt)", dev, "mgmt")
        yield from claim(dev.loopback, f"device {dev.name} (loopback)", dev, "loopback")
    for site in dc.sites:
        yield from claim(site.router, f"site {site.name} router", site, "router")


@center_rule("ADDR004", "gateway-outside-segment", "a segment's gateway is not inside it")
def gateways(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    for z in dc.zones:
        for s in z.segments:
            if s.gateway and not _inside(s.gateway, s.subnet):
                yield problem("ADDR004", at(s, "gateway"),
                              N_("gateway {gateway} of segment {segment} is not a host "
                                 "address of {net}"),
                              N_("use an address inside {net}, usually the first"),
                              gateway=s.gateway, segment=s.name, net=s.subnet)
