"""Names are unique, the tree is well formed (city -> province -> ministry)."""

from __future__ import annotations

from collections.abc import Iterator

from pesdc.i18n import N_
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
from pesdc.rules.registry import at, center_rule, problem, rule

# Sections whose names share one namespace inside a data center (they become hosts).
_HOSTS = ("devices", "servers")
_OWN_NAMESPACE = ("zones", "databases", "systems", "sites", "links", "uplinks")


@center_rule("SCH004", "duplicate-name",
      "two objects of one kind share a name (interfaces: on one device)")
def duplicate_names(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
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
                              N_("a site cannot be named {CENTER!r}: links use that name for "
                                 "the data center end"), N_("rename the site"),
                              CENTER=CENTER)
            if name in first:
                f_path = first[name]._src[1]
                yield problem("SCH004", at(obj, "name"),
                              N_("{what} name {name!r} is used twice in {dc}"),
                              N_("rename one of them; the first is at {first}"),
                              what=what, name=name, dc=dc.name,
                              first=".".join(str(p) for p in f_path))
            else:
                first[name] = obj
    for dev in dc.devices:
        yield from _duplicate_interfaces(dev)


@rule("PLAT001", "device-family",
      "a device's platform and model resolve to exactly one OS family")
def device_families(topo: Topology) -> Iterator[Diagnostic]:
    from pesdc.platforms import PlatformError, family_of

    judged: dict[tuple[str, str], PlatformError | None] = {}  # a tree has few pairs
    for dc in topo.datacenters.values():
        for dev in dc.devices:
            pair = (dev.platform.value, dev.model)
            if pair not in judged:
                try:
                    family_of(*pair)
                    judged[pair] = None
                except PlatformError as exc:
                    judged[pair] = exc
            refused = judged[pair]
            if refused is not None:
                yield problem("PLAT001", at(dev, "model"), N_("device {dev}: {exc}"),
                              N_("give the model as the vendor names it (one a family above "
                                 "claims), or choose the platform that runs it"),
                              dev=dev.name, exc=refused)


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
                      N_("interface name {same} on device {dev}"),
                      N_("rename one of them; the first is interfaces[{first_key}]"),
                      same=same, dev=dev.name, first_key=first[key])


@center_rule("TREE001", "tier-parent", "city -> province -> ministry, with matching division codes")
def tier_parent(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    want = parent_tier(dc.tier)
    if want is None:  # the ministry
        if dc.parent is not None:
            yield problem("TREE001", at(dc, "parent"), N_("the ministry center has no parent"),
                          N_("remove parent:"))
        return
    if dc.parent is None:
        yield problem("TREE001", at(dc, "tier"),
                      N_("a {tier} center needs parent: (its {want} center)"),
                      N_("add parent: NAME-OF-{upper}-CENTER"),
                      tier=dc.tier.value, want=want.value, upper=want.value.upper())
        return
    parent = topo.datacenters.get(dc.parent)
    if parent is None:
        return  # REF001 reports the dangling name
    if parent.tier is not want:
        yield problem("TREE001", at(dc, "parent"),
                      N_("parent {dc_parent!r} is a {parent_tier} center; a {dc_tier} "
                         "center's parent is a {want} center"),
                      N_("point parent: at the right tier"),
                      dc_parent=dc.parent, parent_tier=parent.tier.value,
                      dc_tier=dc.tier.value, want=want.value)
    elif dc.tier is Tier.city and dc.division_code[:2] != parent.division_code[:2]:
        yield problem("TREE001", at(dc, "division_code"),
                      N_("division code {dc_division_code} is not inside province {parent} "
                         "({parent_division_code})"),
                      N_("a city's code starts with its province's two digits"),
                      dc_division_code=dc.division_code, parent=parent.name,
                      parent_division_code=parent.division_code)


@center_rule("ISO001", "isolation-pairs", "each zone pair declared once, flows inside their pair")
def isolation_pairs(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    idx = topo.index(dc)
    seen: dict[frozenset[str], Strict] = {}
    for iso in dc.isolation:
        a, b = iso.between
        if a == b:
            yield problem("ISO001", at(iso, "between"), N_("isolation of {a!r} with itself"),
                          N_("name two different zones"),
                          a=a)
            continue
        pair = frozenset(iso.between)
        if pair in seen:
            yield problem("ISO001", at(iso, "between"),
                          N_("zones {a} and {b} already have an isolation entry"),
                          N_("merge the two entries into one"),
                          a=a, b=b)
        seen[pair] = iso
        for i, flow in enumerate(iso.flows):
            if {flow.src, flow.dst} != set(pair):
                yield problem("ISO001", at(iso, "flows", i),
                              N_("flow {flow_src}->{flow_dst} does not cross {a}<->{b}"),
                              N_("move the flow to the isolation entry of its zone pair"),
                              flow_src=flow.src, flow_dst=flow.dst, a=a, b=b)
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
                                      N_("system {sname} has no server in zone {zone}"),
                                      N_("name systems that run in the flow's zone"),
                                      sname=sname, zone=zone)
        if iso.type is IsolationType.firewall and not iso.flows:
            yield problem("ISO001", at(iso, "type"),
                          N_("firewall between {a} and {b} allows nothing"),
                          N_("list the allowed flows, or declare type: physical"),
                          Severity.warning,
                          a=a, b=b)


_UPLINK_TIERS = {
    UplinkKind.city_province: ({Tier.city}, {Tier.province}),
    UplinkKind.province_ministry: ({Tier.province}, {Tier.ministry}),
    UplinkKind.ministry_city: ({Tier.ministry, Tier.city}, {Tier.ministry, Tier.city}),
}


@center_rule("NET001", "uplinks", "business private network uplinks join the right tiers")
def uplinks(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    for up in dc.uplinks:
        peer = topo.datacenters.get(up.peer)
        if peer is None or peer is dc or up.downlink_of:
            continue  # REF001; its own center NET004; an upper end's mirror NET005
        ours, theirs = _UPLINK_TIERS[up.kind]
        if dc.tier not in ours or peer.tier not in theirs or dc.tier == peer.tier:
            yield problem("NET001", at(up, "kind"),
                          N_("a {up_kind} uplink cannot join {dc_tier} {dc} to {peer_tier} "
                             "{peer}"),
                          N_("use city_province, province_ministry or ministry_city"),
                          up_kind=up.kind.value, dc_tier=dc.tier.value, dc=dc.name,
                          peer_tier=peer.tier.value, peer=peer.name)
    if dc.hosted or dc.tier is Tier.ministry or topo.invalid_items[dc.name].get("uplinks"):
        return
    want = UplinkKind.city_province if dc.tier is Tier.city else UplinkKind.province_ministry
    if dc.parent and not any(u.kind is want and u.peer == dc.parent for u in dc.uplinks):
        yield problem("NET001", at(dc, "name"),
                      N_("{dc} has no {want} uplink to its parent {dc_parent}"),
                      N_("add uplinks: [{{name: ..., kind: {want}, peer: {dc_parent}, "
                         "bandwidth_mbps: ...}}]"), Severity.warning,
                      dc=dc.name, want=want.value, dc_parent=dc.parent)


@center_rule("NET002", "site-reachable", "every municipal site has a link toward the center")
def site_links(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
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
                          N_("site {site} has no link; it cannot reach the center"),
                          N_("add a link with a: {up} and b: {site}"),
                          site=site.name, up=up)
        chain = idx.site_path_to_center(site.name)
        last = idx.sites.get(chain[-1]) if chain else None
        if last is not None and last.parent is not None and last.parent in idx.sites:
            yield problem("NET002", at(site, "parent"),
                          N_("site {site}'s parents form a loop"),
                          N_("one site in the chain must hang off the center"),
                          site=site.name)
    for lk in dc.links:
        if lk.redundant_with is None:
            continue
        other = idx.links.get(lk.redundant_with)
        if other is not None and {other.a, other.b} != {lk.a, lk.b}:
            yield problem("NET002", at(lk, "redundant_with"),
                          N_("link {lk} backs up {other}, which joins other endpoints"),
                          N_("a redundant link joins the same two ends"),
                          lk=lk.name, other=other.name)


# The switching domain is the center: its core, aggregation and access switches carry
# every zone segment (one Vlanif per VLAN, docs/topology.md); sites have no VLANs here.
@center_rule("NET003", "vlan-per-segment",
      "a VLAN id is one segment of its center (the center's switches are one domain)")
def vlan_reuse(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
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
                              N_("VLAN {seg_vlan} of segment {seg} (zone {zone}) is also segment "
                                 "{seg0}'s (zone {zone0}): on {dc}'s switches it joins the two "
                                 "zones at layer 2, around the isolation between them"),
                              N_("give each segment its own VLAN id in this center"),
                              seg_vlan=seg.vlan, seg=seg.name, zone=zone.name, seg0=seg0.name,
                              zone0=zone0.name, dc=dc.name)
            else:
                yield problem("NET003", at(seg, "vlan"),
                              N_("VLAN {seg_vlan} of segment {seg} is also segment {seg0}'s in "
                                 "zone {zone}: one VLAN (one Vlanif) carries one segment"),
                              N_("give each segment its own VLAN id, or make the two segments one"),
                              seg_vlan=seg.vlan, seg=seg.name, seg0=seg0.name, zone=zone.name)


@center_rule("NET004", "link-ends", "a link joins two different ends; an uplink another center")
def link_ends(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    for lk in dc.links:
        if lk.a == lk.b:
            end = "the center" if lk.a == CENTER else f"site {lk.a}"
            yield problem("NET004", at(lk, "b"),
                          N_("link {lk} joins {end} to itself"),
                          N_("a: is the center or the parent site, b: the site the link "
                             "reaches"),
                          lk=lk.name, end=end)
    for up in dc.uplinks:
        if up.peer == dc.name:
            yield problem("NET004", at(up, "peer"),
                          N_("uplink {up} of {dc} has its own center as peer"),
                          N_("set peer: to the center at the other end"),
                          up=up.name, dc=dc.name)


@center_rule("ZONE001", "zone-set", "a center has the zones the source document requires")
def zone_set(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    required = (ZoneKind.production, ZoneKind.exchange, ZoneKind.decision)
    if dc.hosted or topo.invalid_items[dc.name].get("zones"):
        return  # a zone that failed the schema may be the missing one
    kinds = {z.kind for z in dc.zones}
    wanted = required if dc.tier is not Tier.ministry else (ZoneKind.exchange,
                                                            ZoneKind.decision)
    for kind in wanted:
        if kind not in kinds:
            yield problem("ZONE001", at(dc, "name"),
                          N_("{dc} has no {kind} zone"),
                          N_("add a zone with kind: {kind}"),
                          dc=dc.name, kind=kind.value)
