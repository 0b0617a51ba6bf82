"""Graded-protection structure that a topology already shows (GB/T 22239-2019, level 3).

These are the structural preconditions the audit builds on: 8.1.2.1 (network
architecture: redundancy of key devices, zones, important zones not at the boundary)
and 8.1.5 (a security management center). The judgements are :mod:`pesdc.norms`,
which the audit's checks of the same clauses call as well; this module words them as
diagnostics at the line to change.
"""

from __future__ import annotations

from collections.abc import Iterator

from pesdc import norms
from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.schema import DeviceKind, ServerRole
from pesdc.model.tree import Topology
from pesdc.norms import Opening, Pairing
from pesdc.rules.registry import at, problem, rule


@rule("MLPS001", "security-management-zone",
      "a center has a security management zone with its log server and time source")
def management_zone(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        if dc.hosted or topo.invalid_items[dc.name].get("zones"):
            continue  # a zone that failed the schema may be the missing one
        mgmt = norms.management_zones(dc)
        if not mgmt:
            yield problem("MLPS001", at(dc, "zones"),
                          f"{dc.name} has no security management zone (安全管理中心)",
                          "add a zone with kind: security_management for the bastion, log "
                          "server and time source (GB/T 22239 8.1.5)")
            continue
        for role in (ServerRole.logserver, ServerRole.timesource):
            if not norms.managers(dc, role):
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
            if not norms.needs_partner(dev):
                continue
            what = "core switch" if dev.kind is DeviceKind.core_switch else "border firewall"
            pairing = norms.pairing(dev, idx.devices)
            if pairing is Pairing.none:
                yield problem("MLPS002", at(dev, "name"),
                              f"{what} {dev.name} has no redundancy partner",
                              "add a second device and set redundancy: on both (8.1.2.1)")
            elif pairing is Pairing.not_another:
                yield problem("MLPS002", at(dev, "redundancy"),
                              f"{dev.name}'s partner {dev.redundancy} is not another "
                              f"{dev.kind.value}", "pair devices of the same kind")
            elif pairing is Pairing.one_sided:
                yield problem("MLPS002", at(dev, "redundancy"),
                              f"{dev.name} names {dev.redundancy} as partner, but "
                              f"{dev.redundancy} does not name {dev.name}",
                              f"set redundancy: {dev.name} on {dev.redundancy}")
            # Pairing.unknown: a dangling name, REF001's to report
        for db in dc.databases:
            if db.standby is None:
                yield problem("MLPS002", at(db, "name"),
                              f"database {db.name} has no standby",
                              "add standby: SERVER (primary/standby, 8.1.4.9)")
            elif not norms.has_standby(db):
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
    """Nothing from the internet area may open a connection into an important zone
    (the judgement is :func:`pesdc.norms.exposures`, the audit's AUD-CN-03 as well)."""
    for dc in topo.datacenters.values():
        for exp in norms.exposures(dc):
            iso, inner, inside = exp.isolation, exp.kind, exp.inside
            if exp.how is Opening.flow:
                yield problem("MLPS003", at(iso, "flows", exp.flow),
                              f"flow from the internet area into {inner.value} zone "
                              f"{inside}", "serve the public from the exchange zone; only "
                              "connections from the important zone outward are allowed "
                              "(8.1.2.1 b)")
            else:
                yield problem("MLPS003", at(iso, "type"),
                              f"{inner.value} zone {inside} is open to the internet area "
                              f"({iso.type.value})", "important zones sit behind the "
                              "exchange zone: make this pair physical (8.1.2.1 b)")
