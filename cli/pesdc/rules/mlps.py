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
from pesdc.i18n import N_
from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.schema import DataCenter, DeviceKind, ServerRole
from pesdc.model.tree import Topology
from pesdc.norms import Opening, Pairing
from pesdc.rules.registry import at, center_rule, problem


@center_rule("MLPS001", "security-management-zone",
      "a center has a security management zone with its log server and time source")
def management_zone(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted or topo.invalid_items[dc.name].get("zones"):
        return  # a zone that failed the schema may be the missing one
    mgmt = norms.management_zones(dc)
    if not mgmt:
        yield problem("MLPS001", at(dc, "zones"),
                      N_("{dc} has no security management zone (安全管理中心)"),
                      N_("add a zone with kind: security_management for the bastion, "
                         "log server and time source (GB/T 22239 8.1.5)"), dc=dc.name)
        return
    for role in (ServerRole.logserver, ServerRole.timesource):
        if not norms.managers(dc, role):
            yield problem("MLPS001", at(mgmt[0], "name"),
                          N_("no {role} server in the security management zone"),
                          N_("add a server with role {role} in zone {zone}"),
                          Severity.warning, role=role.value, zone=mgmt[0].name)


@center_rule("MLPS002", "redundancy",
      "core switches, border firewalls and databases have redundancy partners")
def redundancy(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    idx = topo.index(dc)
    for dev in dc.devices:
        if not norms.needs_partner(dev):
            continue
        core = dev.kind is DeviceKind.core_switch
        pairing = norms.pairing(dev, idx.devices)
        if pairing is Pairing.none:
            yield problem("MLPS002", at(dev, "name"),
                          N_("core switch {device} has no redundancy partner") if core
                          else N_("border firewall {device} has no redundancy partner"),
                          N_("add a second device and set redundancy: on both (8.1.2.1)"),
                          device=dev.name)
        elif pairing is Pairing.not_another:
            yield problem("MLPS002", at(dev, "redundancy"),
                          N_("{device}'s partner {partner} is not another {kind}"),
                          N_("pair devices of the same kind"),
                          device=dev.name, partner=dev.redundancy, kind=dev.kind.value)
        elif pairing is Pairing.one_sided:
            yield problem("MLPS002", at(dev, "redundancy"),
                          N_("{device} names {partner} as partner, but {partner} does "
                             "not name {device}"),
                          N_("set redundancy: {device} on {partner}"),
                          device=dev.name, partner=dev.redundancy)
        # Pairing.unknown: a dangling name, REF001's to report
    for db in dc.databases:
        if db.standby is None:
            yield problem("MLPS002", at(db, "name"),
                          N_("database {db} has no standby"),
                          N_("add standby: SERVER (primary/standby, 8.1.4.9)"), db=db.name)
        elif not norms.has_standby(db):
            yield problem("MLPS002", at(db, "standby"),
                          N_("database {db}'s standby is its primary"),
                          N_("put the standby on another server"), db=db.name)
        if db.backup_target is None:
            yield problem("MLPS002", at(db, "name"),
                          N_("database {db} has no backup target"),
                          N_("add backup_target: BACKUP-SERVER (8.1.4.9)"), Severity.warning,
                          db=db.name)


@center_rule("MLPS003", "important-zone-at-boundary",
      "important zones are not directly reachable from the internet boundary")
def boundary(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    """Nothing from the internet area may open a connection into an important zone
    (the judgement is :func:`pesdc.norms.exposures`, the audit's AUD-CN-03 as well)."""
    for exp in norms.exposures(dc):
        iso, inner, inside = exp.isolation, exp.kind, exp.inside
        if exp.how is Opening.flow:
            yield problem("MLPS003", at(iso, "flows", exp.flow),
                          N_("flow from the internet area into {kind} zone {zone}"),
                          N_("serve the public from the exchange zone; only connections "
                             "from the important zone outward are allowed (8.1.2.1 b)"),
                          kind=inner.value, zone=inside)
        else:
            yield problem("MLPS003", at(iso, "type"),
                          N_("{kind} zone {zone} is open to the internet area "
                             "({isolation})"),
                          N_("important zones sit behind the exchange zone: make this "
                             "pair physical (8.1.2.1 b)"),
                          kind=inner.value, zone=inside, isolation=iso.type.value)
