"""Names are unique, the tree is well formed (city -> province -> ministry)."""

from __future__ import annotations

from collections.abc import Iterator

from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.schema import (
    DataCenter,
    Device,
    IsolationType,
    Segment,
    Strict,
    Tier,
    UplinkKind,
    Zone,
    ZoneKind,
)
from pesdc.model.tree import CENTER, Topology, parent_tier
from pesdc.rules.registry import at, problem, rule

# Sections whose names share one namespace inside a data center (they become hosts).
_HOSTS = ("devices", "servers")
_OWN_NAMESPACE = ("zones", "databases", "systems", "sites", "links", "uplinks")


@rule("SCH004", "duplicate-name",
      "two objects of one kind share a name (interfaces: on one device)")
def duplicate_names(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        spaces: list[tuple[str, list[Strict]]] = [
            ("host (device or server)", [*dc.devices, *dc.servers]),
            ("segment", [s for z in dc.zones for s in z.segments]),
        ]
        spaces += [(section[:-1], getattr(dc, section)) for section in _OWN_NAMESPACE]
        for what, objs in spaces:
            first: dict[str, Strict] = {}
            for obj in objs:
                name = obj.name  # type: ignore[attr-defined]
                if name == CENTER and what == "site":
                    yield problem("SCH004", at(obj, "name"),
                                  f"a site cannot be named {CENTER!r}: links use that name "
                                  "for the data center end", "rename the site")
                if name in first:
                    f_path = first[name]._src[1]
                    yield problem("SCH004", at(obj, "name"),
                                  f"{what} name {name!r} is used twice in {dc.name}",
                                  "rename one of them; the first is at "
                                  f"{'.'.join(str(p) for p in f_path)}")
                else:
                    first[name] = obj
        for dev in dc.devices:
            yield from _duplicate_interfaces(dev)


@rule("PLAT001", "device-family",
      "a device's platform and model resolve to exactly one OS family")
def device_families(topo: Topology) -> Iterator[Diagnostic]:
    from pesdc.platforms import PlatformError, family_of

    for dc in topo.datacenters.values():
        for dev in dc.devices:
            try:
                family_of(dev.platform.value, dev.model)
            except PlatformError as exc:
                yield problem("PLAT001", at(dev, "model"), f"device {dev.name}: {exc}",
                              "give the model as the vendor names it (one a family above "
                              "claims), or choose the platform that runs it")


def _duplicate_interfaces(dev: Device) -> Iterator[Diagnostic]:
    # Compared without case: VRP, Comware and IOS read GE0/0/1 and ge0/0/1 as one port.
    first: dict[str, int] = {}
    for i, itf in enumerate(dev.interfaces):
        key = itf.name.casefold()
        if key not in first:
            first[key] = i
            continue
        earlier = dev.interfaces[first[key]].name
        same = f"{itf.name!r} is used twice" if earlier == itf.name else (
            f"{itf.name!r} names the same port as {earlier!r} (case does not count)")
        yield problem("SCH004", at(dev, "interfaces", i, "name"),
                      f"interface name {same} on device {dev.name}",
                      f"rename one of them; the first is interfaces[{first[key]}]")


@rule("TREE001", "tier-parent", "city -> province -> ministry, with matching division codes")
def tier_parent(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        want = parent_tier(dc.tier)
        if want is None:  # the ministry
            if dc.parent is not None:
                yield problem("TREE001", at(dc, "parent"), "the ministry center has no parent",
                              "remove parent:")
            continue
        if dc.parent is None:
            yield problem("TREE001", at(dc, "tier"),
                          f"a {dc.tier.value} center needs parent: (its {want.value} center)",
                          f"add parent: NAME-OF-{want.value.upper()}-CENTER")
            continue
        parent = topo.datacenters.get(dc.parent)
        if parent is None:
            continue  # REF001 reports the dangling name
        if parent.tier is not want:
            yield problem("TREE001", at(dc, "parent"),
                          f"parent {dc.parent!r} is a {parent.tier.value} center; a "
                          f"{dc.tier.value} center's parent is a {want.value} center",
                          "point parent: at the right tier")
        elif dc.tier is Tier.city and dc.division_code[:2] != parent.division_code[:2]:
            yield problem("TREE001", at(dc, "division_code"),
                          f"division code {dc.division_code} is not inside province "
                          f"{parent.name} ({parent.division_code})",
                          "a city's code starts with its province's two digits")


@rule("ISO001", "isolation-pairs", "each zone pair declared once, flows inside their pair")
def isolation_pairs(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        idx = topo.index(dc)
        seen: dict[frozenset[str], Strict] = {}
        for iso in dc.isolation:
            a, b = iso.between
            if a == b:
                yield problem("ISO001", at(iso, "between"), f"isolation of {a!r} with itself",
                              "name two different zones")
                continue
            pair = frozenset(iso.between)
            if pair in seen:
                yield problem("ISO001", at(iso, "between"),
                              f"zones {a} and {b} already have an isolation entry",
                              "merge the two entries into one")
            seen[pair] = iso
            for i, flow in enumerate(iso.flows):
                if {flow.src, flow.dst} != set(pair):
                    yield problem("ISO001", at(iso, "flows", i),
                                  f"flow {flow.src}->{flow.dst} does not cross {a}<->{b}",
                                  "move the flow to the isolation entry of its zone pair")
                    continue
                for key, zone, systems in (("src_systems", flow.src, flow.src_systems),
                                           ("dst_systems", flow.dst, flow.dst_systems)):
                    for sname in systems:
                        system = idx.systems.get(sname)
                        if system is None:
                            continue  # REF001
                        zones = {idx.servers[s].zone for s in system.servers
                                 if s in idx.servers}
                        if zone not in zones:
                            yield problem("ISO001", at(iso, "flows", i, key),
                                          f"system {sname} has no server in zone {zone}",
                                          "name systems that run in the flow's zone")
            if iso.type is IsolationType.firewall and not iso.flows:
                yield problem("ISO001", at(iso, "type"),
                              f"firewall between {a} and {b} allows nothing",
                              "list the allowed flows, or declare type: physical",
                              Severity.warning)


_UPLINK_TIERS = {
    UplinkKind.city_province: ({Tier.city}, {Tier.province}),
    UplinkKind.province_ministry: ({Tier.province}, {Tier.ministry}),
    UplinkKind.ministry_city: ({Tier.ministry, Tier.city}, {Tier.ministry, Tier.city}),
}


@rule("NET001", "uplinks", "business private network uplinks join the right tiers")
def uplinks(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        for up in dc.uplinks:
            peer = topo.datacenters.get(up.peer)
            if peer is None or peer is dc or up.downlink_of:
                continue  # REF001; its own center NET004; an upper end's mirror NET005
            ours, theirs = _UPLINK_TIERS[up.kind]
            if dc.tier not in ours or peer.tier not in theirs or dc.tier == peer.tier:
                yield problem("NET001", at(up, "kind"),
                              f"a {up.kind.value} uplink cannot join {dc.tier.value} "
                              f"{dc.name} to {peer.tier.value} {peer.name}",
                              "use city_province, province_ministry or ministry_city")
        if dc.hosted or dc.tier is Tier.ministry or topo.invalid_items[dc.name].get("uplinks"):
            continue
        want = UplinkKind.city_province if dc.tier is Tier.city else UplinkKind.province_ministry
        if dc.parent and not any(u.kind is want and u.peer == dc.parent for u in dc.uplinks):
            yield problem("NET001", at(dc, "name"),
                          f"{dc.name} has no {want.value} uplink to its parent {dc.parent}",
                          f"add uplinks: [{{name: ..., kind: {want.value}, peer: {dc.parent}, "
                          "bandwidth_mbps: ...}]", Severity.warning)


@rule("NET002", "site-reachable", "every municipal site has a link toward the center")
def site_links(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        idx = topo.index(dc)
        linked: set[str] = set()
        for lk in dc.links:
            linked.update((lk.a, lk.b))
        # A link that failed the schema may be the one a site lacks: do not pile on.
        bad_links = bool(topo.invalid_items.get(dc.name, {}).get("links"))
        for site in dc.sites:
            if site.name not in linked and not bad_links:
                up = site.parent or CENTER
                yield problem("NET002", at(site, "name"),
                              f"site {site.name} has no link; it cannot reach the center",
                              f"add a link with a: {up} and b: {site.name}")
            chain = idx.site_path_to_center(site.name)
            last = idx.sites.get(chain[-1]) if chain else None
            if last is not None and last.parent is not None and last.parent in idx.sites:
                yield problem("NET002", at(site, "parent"),
                              f"site {site.name}'s parents form a loop",
                              "one site in the chain must hang off the center")
        for lk in dc.links:
            if lk.redundant_with is None:
                continue
            other = idx.links.get(lk.redundant_with)
            if other is not None and {other.a, other.b} != {lk.a, lk.b}:
                yield problem("NET002", at(lk, "redundant_with"),
                              f"link {lk.name} backs up {other.name}, which joins other "
                              "endpoints", "a redundant link joins the same two ends")


# The switching domain is the center: its core, aggregation and access switches carry
# every zone segment (one Vlanif per VLAN, docs/topology.md); sites have no VLANs here.
@rule("NET003", "vlan-per-segment",
      "a VLAN id is one segment of its center (the center's switches are one domain)")
def vlan_reuse(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        yield from _vlan_reuse(dc)


def _vlan_reuse(dc: DataCenter) -> Iterator[Diagnostic]:
    # Across zones a shared VLAN bridges the zones around their isolation; inside one
    # zone it puts two subnets behind one Vlanif, which the renderer, the lab (one bridge
    # per segment) and the examples never do. Both are errors, told apart.
    first: dict[int, tuple[Zone, Segment]] = {}
    for zone in dc.zones:
        for seg in zone.segments:
            if seg.vlan is None:
                continue
            if seg.vlan not in first:
                first[seg.vlan] = (zone, seg)
                continue
            zone0, seg0 = first[seg.vlan]
            if zone0.name != zone.name:
                yield problem("NET003", at(seg, "vlan"),
                              f"VLAN {seg.vlan} of segment {seg.name} (zone {zone.name}) is "
                              f"also segment {seg0.name}'s (zone {zone0.name}): on "
                              f"{dc.name}'s switches it joins the two zones at layer 2, "
                              "around the isolation between them",
                              "give each segment its own VLAN id in this center")
            else:
                yield problem("NET003", at(seg, "vlan"),
                              f"VLAN {seg.vlan} of segment {seg.name} is also segment "
                              f"{seg0.name}'s in zone {zone.name}: one VLAN (one Vlanif) "
                              "carries one segment",
                              "give each segment its own VLAN id, or make the two "
                              "segments one")


@rule("NET004", "link-ends", "a link joins two different ends; an uplink another center")
def link_ends(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        for lk in dc.links:
            if lk.a == lk.b:
                end = "the center" if lk.a == CENTER else f"site {lk.a}"
                yield problem("NET004", at(lk, "b"),
                              f"link {lk.name} joins {end} to itself",
                              "a: is the center or the parent site, b: the site the "
                              "link reaches")
        for up in dc.uplinks:
            if up.peer == dc.name:
                yield problem("NET004", at(up, "peer"),
                              f"uplink {up.name} of {dc.name} has its own center as peer",
                              "set peer: to the center at the other end")


@rule("ZONE001", "zone-set", "a center has the zones the source document requires")
def zone_set(topo: Topology) -> Iterator[Diagnostic]:
    required = (ZoneKind.production, ZoneKind.exchange, ZoneKind.decision)
    for dc in topo.datacenters.values():
        if dc.hosted or topo.invalid_items[dc.name].get("zones"):
            continue  # a zone that failed the schema may be the missing one
        kinds = {z.kind for z in dc.zones}
        wanted = required if dc.tier is not Tier.ministry else (ZoneKind.exchange,
                                                                ZoneKind.decision)
        for kind in wanted:
            if kind not in kinds:
                yield problem("ZONE001", at(dc, "name"),
                              f"{dc.name} has no {kind.value} zone",
                              f"add a zone with kind: {kind.value}")
