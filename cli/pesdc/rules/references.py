"""Every name in a topology points at something that exists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

from pesdc.i18n import N_
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import DataCenter, Strict
from pesdc.model.tree import CENTER, Topology
from pesdc.rules.registry import at, center_rule, problem

DATACENTER = "datacenter"  # the location of anything inside the center itself


class _Refs:
    def __init__(self, topo: Topology, dc: DataCenter):
        self.topo, self.dc, self.idx = topo, dc, topo.index(dc)
        self.out: list[Diagnostic] = []

    def check(self, name: str | None, table: Iterable[str], section: str, what: str,
              obj: Strict, *field: Any, extra: Iterable[str] = ()) -> bool:
        if name is None:
            return True
        # Membership in the table itself (a dict of the index: O(1)); the set of every
        # known name is built only for a name that is not there (the hint's candidates).
        if name in table or name in extra or self.topo.is_invalid(self.dc.name, section,
                                                                  name):
            return True
        known = set(table) | set(extra)
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = N_("did you mean {close!r}?") if close else N_("define {what} {name!r} under "
                                                              "{section}:")
        self.out.append(problem("REF001", at(obj, *field),
                                N_("{what} {name!r} does not exist in {dc}"), hint,
                                what=what, name=name, dc=self.dc.name, section=section,
                                close=close[0] if close else ""))
        return False


@center_rule("REF001", "dangling-reference", "a name that points at nothing")
def dangling(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    def in_tree(name: str) -> bool:  # a center of the tree, valid or not
        return name in topo.datacenters or name in topo.invalid_datacenters

    r = _Refs(topo, dc)
    idx = r.idx
    for key in ("parent", "hosted_by"):
        name = getattr(dc, key)
        if name is not None and not in_tree(name):
            all_dcs = set(topo.datacenters) | topo.invalid_datacenters
            close = difflib.get_close_matches(name, sorted(all_dcs), n=1)
            yield problem("REF001", at(dc, key),
                          N_("data center {name!r} ({key}) is not in this tree"),
                          N_("did you mean {close!r}?") if close else
                          N_("load the folder that holds the whole tree"),
                          name=name, key=key, close=close[0] if close else "")
    rooms = idx.machine_rooms
    for iso in dc.isolation:
        for i, z in enumerate(iso.between):
            r.check(z, idx.zones, "zones", "zone", iso, "between", i)
        for i, flow in enumerate(iso.flows):
            r.check(flow.src, idx.zones, "zones", "zone", iso, "flows", i, "src")
            r.check(flow.dst, idx.zones, "zones", "zone", iso, "flows", i, "dst")
            for key in ("src_systems", "dst_systems"):
                for j, s in enumerate(getattr(flow, key)):
                    r.check(s, idx.systems, "systems", "system", iso, "flows", i, key, j)
        for i, d in enumerate(iso.enforced_by):
            r.check(d, idx.devices, "devices", "device", iso, "enforced_by", i)
    for dev in dc.devices:
        r.check(dev.redundancy, idx.devices, "devices", "device", dev, "redundancy")
        r.check(dev.location, rooms, "sites", "machine room", dev, "location",
                extra=[DATACENTER])
        for i, itf in enumerate(dev.interfaces):
            r.check(itf.segment, idx.segments, "segments", "segment", dev,
                    "interfaces", i, "segment")
            r.check(itf.link, idx.links, "links", "link", dev, "interfaces", i, "link")
            r.check(itf.uplink, idx.uplinks, "uplinks", "uplink", dev,
                    "interfaces", i, "uplink")
            if itf.peer:
                r.check(itf.peer.split(":")[0], idx.devices, "devices", "device", dev,
                        "interfaces", i, "peer")
    for srv in dc.servers:
        zone_ok = r.check(srv.zone, idx.zones, "zones", "zone", srv, "zone")
        r.check(srv.location, rooms, "sites", "machine room", srv, "location",
                extra=[DATACENTER])
        if srv.segment is not None and r.check(srv.segment, idx.segments, "segments",
                                               "segment", srv, "segment"):
            zone = idx.segment_zone.get(srv.segment)
            if zone_ok and zone is not None and zone.name != srv.zone:
                yield problem("REF001", at(srv, "segment"),
                              N_("segment {segment} is in zone {zone}, not {server_zone}"),
                              N_("set zone: {zone} or pick a segment of {server_zone}"),
                              segment=srv.segment, zone=zone.name, server_zone=srv.zone)
        if srv.segment is None and srv.location == DATACENTER:
            yield problem("REF001", at(srv),
                          N_("server {server} is in the data center but names no segment"),
                          N_("add segment: (one of zone {zone}'s segments)"),
                          server=srv.name, zone=srv.zone)
    for db in dc.databases:
        for key in ("primary", "standby", "backup_target"):
            r.check(getattr(db, key), idx.servers, "servers", "server", db, key)
    for system in dc.systems:
        for i, s in enumerate(system.servers):
            r.check(s, idx.servers, "servers", "server", system, "servers", i)
        r.check(system.database, idx.databases, "databases", "database", system,
                "database")
    # Sites and links are most of a city's names: a name found in its table is passed
    # here, the rest goes to check (which finds it again, or reports it).
    sites, links = idx.sites, idx.links
    for site in dc.sites:
        if site.parent is not None and site.parent not in sites:
            r.check(site.parent, sites, "sites", "site", site, "parent")
    for lk in dc.links:
        for key in ("a", "b"):
            end = getattr(lk, key)
            if end is not None and end not in sites and end != CENTER:
                r.check(end, sites, "sites", "site", lk, key, extra=[CENTER])
        if lk.redundant_with is not None and lk.redundant_with not in links:
            r.check(lk.redundant_with, links, "links", "link", lk, "redundant_with")
    for up in dc.uplinks:
        if not in_tree(up.peer):
            yield problem("REF001", at(up, "peer"),
                          N_("data center {name!r} (uplink peer) is not in this tree"),
                          N_("load the folder that holds the whole tree"), name=up.peer)
        r.check(up.device, idx.devices, "devices", "device", up, "device")
    yield from r.out
