"""Graded-protection structure that a topology already shows (GB/T 22239-2019, level 3).

These are the structural preconditions the audit builds on: 8.1.2.1 (network
architecture: redundancy of key devices, zones, important zones not at the boundary)
and 8.1.5 (a security management center).
"""

from __future__ import annotations

from collections.abc import Iterator

from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.schema import DeviceKind, IsolationType, ServerRole, ZoneKind
from pesdc.model.tree import Topology
from pesdc.rules.registry import at, problem, rule

IMPORTANT = (ZoneKind.production, ZoneKind.decision, ZoneKind.security_management)


@rule("MLPS001", "security-management-zone",
      "a center has a security management zone with its log server and time source")
def management_zone(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        if dc.hosted or topo.invalid_items[dc.name].get("zones"):
            continue  # a zone that failed the schema may be the missing one
        idx = topo.index(dc)
        mgmt = idx.zones_of_kind(ZoneKind.security_management)
        if not mgmt:
            yield problem("MLPS001", at(dc, "zones"),
                          f"{dc.name} has no security management zone (安全管理中心)",
                          "add a zone with kind: security_management for the bastion, log "
                          "server and time source (GB/T 22239 8.1.5)")
            continue
        names = {z.name for z in mgmt}
        for role in (ServerRole.logserver, ServerRole.timesource):
            if not any(role in s.roles and s.zone in names for s in dc.servers):
                yield problem("MLPS001", at(mgmt[0], "name"),
                              f"no {role.value} server in the security management zone",
                              f"add a server with role {role.value} in zone {mgmt[0].name}",
                              Severity.warning)


@rule("MLPS002", "redundancy",
      "core switches, border firewalls and databases have redundancy partners")
def redundancy(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        idx = topo.index(dc)
        for dev in dc.devices:
            needs = dev.kind is DeviceKind.core_switch or (
                dev.kind is DeviceKind.firewall and dev.border)
            if not needs:
                continue
            what = "core switch" if dev.kind is DeviceKind.core_switch else "border firewall"
            if dev.redundancy is None:
                yield problem("MLPS002", at(dev, "name"),
                              f"{what} {dev.name} has no redundancy partner",
                              "add a second device and set redundancy: on both (8.1.2.1)")
                continue
            partner = idx.devices.get(dev.redundancy)
            if partner is None:
                continue  # REF001
            if partner.name == dev.name or partner.kind is not dev.kind:
                yield problem("MLPS002", at(dev, "redundancy"),
                              f"{dev.name}'s partner {partner.name} is not another "
                              f"{dev.kind.value}", "pair devices of the same kind")
            elif partner.redundancy != dev.name:
                yield problem("MLPS002", at(dev, "redundancy"),
                              f"{dev.name} names {partner.name} as partner, but "
                              f"{partner.name} does not name {dev.name}",
                              f"set redundancy: {dev.name} on {partner.name}")
        for db in dc.databases:
            if db.standby is None:
                yield problem("MLPS002", at(db, "name"),
                              f"database {db.name} has no standby",
                              "add standby: SERVER (primary/standby, 8.1.4.9)")
            elif db.standby == db.primary:
                yield problem("MLPS002", at(db, "standby"),
                              f"database {db.name}'s standby is its primary",
                              "put the standby on another server")
            if db.backup_target is None:
                yield problem("MLPS002", at(db, "name"),
                              f"database {db.name} has no backup target",
                              "add backup_target: BACKUP-SERVER (8.1.4.9)", Severity.warning)


@rule("MLPS003", "important-zone-at-boundary",
      "important zones are not directly reachable from the internet boundary")
def boundary(topo: Topology) -> Iterator[Diagnostic]:
    """Nothing from the internet area may open a connection into an important zone.

    Important zones may reach out (the bastion manages hosts in the internet area
    through the firewall), and internet-area hosts may send logs to named collectors in
    the management zone, but an isolation of type none, a gatekeeper pointing inward
    or a firewall flow from the internet side puts the zone at the boundary.
    """
    for dc in topo.datacenters.values():
        kinds = {z.name: z.kind for z in dc.zones}
        for iso in dc.isolation:
            a, b = iso.between
            if ZoneKind.internet not in (kinds.get(a), kinds.get(b)):
                continue
            outside, inside = (a, b) if kinds.get(a) is ZoneKind.internet else (b, a)
            inner = kinds.get(inside)
            if inner not in IMPORTANT:
                continue
            # Hosts in the internet area still send their logs and ask the time: a flow
            # into the management zone aimed at named collectors is not exposure.
            inward = [i for i, f in enumerate(iso.flows) if f.src == outside and not (
                inner is ZoneKind.security_management and f.dst_systems)]
            if iso.type is IsolationType.none or iso.one_way == (outside, inside):
                yield problem("MLPS003", at(iso, "type"),
                              f"{inner.value} zone {inside} is open to the internet area "
                              f"({iso.type.value})", "important zones sit behind the "
                              "exchange zone: make this pair physical (8.1.2.1 b)")
            for i in inward:
                yield problem("MLPS003", at(iso, "flows", i),
                              f"flow from the internet area into {inner.value} zone "
                              f"{inside}", "serve the public from the exchange zone; only "
                              "connections from the important zone outward are allowed "
                              "(8.1.2.1 b)")
