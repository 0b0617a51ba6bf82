"""The source document's rules: where systems run and what each stage allows.

Source: 公共就业服务信息化建设技术方案, sections on deployment (部署方式), the city data
center's three stages (第一/二/三阶段) and the municipal network. See ../shared/BRIEF.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from pesdc.i18n import N_
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import (
    DataCenter,
    IsolationType,
    Owner,
    SiteKind,
    SystemKind,
    Tier,
    ZoneKind,
)
from pesdc.model.tree import CENTER, DCIndex, Topology
from pesdc.rules.references import DATACENTER
from pesdc.rules.registry import at, center_rule, problem


def _centers(topo: Topology) -> Iterator[tuple[DataCenter, DCIndex]]:
    for dc in topo.datacenters.values():
        if not dc.hosted:
            yield dc, topo.index(dc)


@center_rule("PES001", "pes-mis-placement",
      "PES MIS runs in the production zone of a city (or province) center")
def pes_mis_placement(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    idx = topo.index(dc)
    for system in dc.systems:
        if system.kind is not SystemKind.pes_mis:
            continue
        if dc.tier is Tier.ministry:
            yield problem("PES001", at(system, "kind"),
                          N_("PES MIS is deployed in a city or province center, not the "
                             "ministry's"),
                          N_("move the system to the city center's file"))
            continue
        for i, name in enumerate(system.servers):
            srv = idx.servers.get(name)
            zone = idx.zones.get(srv.zone) if srv else None
            if srv is None or zone is None or srv.location != DATACENTER:
                continue  # REF001, or an agency room (the stage rules judge that)
            if zone.kind is not ZoneKind.production:
                yield problem("PES001", at(system, "servers", i),
                              N_("PES MIS server {name} is in {zone_kind} zone {zone}"),
                              N_("place PES MIS servers in a production zone segment "
                                 "(部署在生产区)"),
                              name=name, zone_kind=zone.kind.value, zone=zone.name)


@center_rule("PES002", "decision-support-placement", "decision support runs in a decision zone")
def decision_placement(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    idx = topo.index(dc)
    for system in dc.systems:
        if system.kind is not SystemKind.decision_support:
            continue
        for i, name in enumerate(system.servers):
            srv = idx.servers.get(name)
            zone = idx.zones.get(srv.zone) if srv else None
            if zone is not None and zone.kind is not ZoneKind.decision:
                yield problem("PES002", at(system, "servers", i),
                              N_("decision support server {name} is in {zone_kind} zone "
                                 "{zone}"),
                              N_("place it in a decision zone (决策区)"),
                              name=name, zone_kind=zone.kind.value, zone=zone.name)


@center_rule("PES003", "internet-through-exchange",
      "internet-facing services reach production only through the exchange zone and a "
      "gatekeeper")
def internet_through_exchange(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    idx = topo.index(dc)
    kinds = {z.name: z.kind for z in dc.zones}
    has_internet = ZoneKind.internet in kinds.values()
    for iso in dc.isolation:
        pair = {kinds.get(z) for z in iso.between}
        if pair == {ZoneKind.exchange, ZoneKind.production} and has_internet and \
                iso.type not in (IsolationType.gatekeeper, IsolationType.physical):
            yield problem("PES003", at(iso, "type"),
                          N_("exchange <-> production is '{iso_type}' in a center that "
                             "serves the internet"),
                          N_("make it type: gatekeeper with a one-way direction (网闸), or "
                             "physical"),
                          iso_type=iso.type.value)
    for system in dc.systems:
        if not system.public:
            continue
        for i, name in enumerate(system.servers):
            srv = idx.servers.get(name)
            zone = idx.zones.get(srv.zone) if srv else None
            if zone is not None and zone.kind not in (ZoneKind.internet, ZoneKind.exchange):
                yield problem("PES003", at(system, "servers", i),
                              N_("public system {system} runs on {name} in {zone_kind} zone "
                                 "{zone}"),
                              N_("serve the public from the internet area or the exchange "
                                 "zone; production is reached only through the exchange"),
                              system=system.name, name=name, zone_kind=zone.kind.value,
                              zone=zone.name)


@center_rule("PES004", "exchange-decision-centralized",
      "exchange- and decision-zone systems are in the center from stage 1 on")
def exchange_decision_centralized(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    idx = topo.index(dc)
    for srv in dc.servers:
        zone = idx.zones.get(srv.zone)
        if zone is None or srv.location == DATACENTER:
            continue
        if zone.kind in (ZoneKind.exchange, ZoneKind.decision):
            yield problem("PES004", at(srv, "location"),
                          N_("{zone_kind}-zone server {srv} is in machine room {srv_location}"),
                          N_("exchange and decision systems are centralized in the data "
                             "center from stage 1: location: datacenter"),
                          zone_kind=zone.kind.value, srv=srv.name, srv_location=srv.location)


def _systems_on(idx: DCIndex, server: str) -> list[str]:
    return [s.name for s in idx.dc.systems if server in s.servers]


@center_rule("PES005", "stage-2-unified-mis",
      "from stage 2 the unified PES MIS runs in the center; only talent-center systems "
      "stay in an agency room")
def stage_two(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    idx = topo.index(dc)
    if dc.tier is not Tier.city or (dc.stage or 0) < 2:
        return
    if not any(s.kind is SystemKind.pes_mis for s in dc.systems) and \
            not topo.invalid_items[dc.name].get("systems"):
        yield problem("PES005", at(dc, "stage"),
                      N_("stage {dc_stage} needs the city-wide unified PES MIS, and {dc} has "
                         "none"),
                      N_("add a system with kind: pes_mis, or declare stage: 1"),
                      dc_stage=dc.stage, dc=dc.name)
    for srv in dc.servers:
        if srv.location == DATACENTER:
            continue
        systems = [idx.systems[n] for n in _systems_on(idx, srv.name)]
        # A database server serves the systems that use its database.
        for db in dc.databases:
            if srv.name in (db.primary, db.standby):
                systems += [s for s in dc.systems if s.database == db.name]
        # once each: a server may hold a system and that system's database
        others = list(dict.fromkeys(s.name for s in systems
                                    if s.owner is not Owner.talent_center))
        if others or not systems:
            yield problem("PES005", at(srv, "location"),
                          N_("stage {dc_stage}: server {srv} in machine room {srv_location} "
                             "runs {systems}; only talent-center systems may stay in an "
                             "agency room") if others else
                          N_("stage {dc_stage}: server {srv} in machine room {srv_location} "
                             "runs no declared system; only talent-center systems may stay "
                             "in an agency room"),
                          N_("move it to the production zone (location: datacenter) or "
                             "declare stage: 1"),
                          dc_stage=dc.stage, srv=srv.name, srv_location=srv.location,
                          systems=", ".join(others))


@center_rule("PES006", "stage-3-centralized", "stage 3 keeps everything in the center")
def stage_three(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    if dc.tier is not Tier.city or dc.stage != 3:
        return
    for section in ("servers", "devices"):
        for obj in getattr(dc, section):
            if obj.location != DATACENTER:
                yield problem("PES006", at(obj, "location"),
                              N_("stage 3: server {name} is still in machine room {room}")
                              if section == "servers" else
                              N_("stage 3: device {name} is still in machine room {room}"),
                              N_("move it to the data center (location: datacenter) or "
                                 "declare stage: 2"), name=obj.name, room=obj.location)


@center_rule("PES007", "room-high-speed-link",
      "every remaining machine room has a high-speed link to the center")
def room_links(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.hosted:
        return
    idx = topo.index(dc)
    for room in idx.machine_rooms.values():
        direct = [lk for lk in dc.links if {lk.a, lk.b} == {CENTER, room.name}]
        if not direct and topo.invalid_items.get(dc.name, {}).get("links"):
            continue  # the room's link failed the schema (SCH002/SCH003 says so)
        if not direct:
            yield problem("PES007", at(room, "name"),
                          N_("machine room {room} has no direct link to the center"),
                          N_("add a link a: center, b: {room}, bandwidth_mbps >= "
                             "{dc_high_speed_mbps:g}"),
                          room=room.name, dc_high_speed_mbps=dc.high_speed_mbps)
            continue
        best = max(direct, key=lambda lk: lk.bandwidth_mbps)
        if best.bandwidth_mbps < dc.high_speed_mbps:
            yield problem("PES007", at(best, "bandwidth_mbps"),
                          N_("link {best} to machine room {room} is {best_bandwidth_mbps:g} "
                             "Mbit/s, below the high-speed threshold {dc_high_speed_mbps:g}"),
                          N_("raise the bandwidth or set high_speed_mbps: for this center"),
                          best=best.name, room=room.name,
                          best_bandwidth_mbps=best.bandwidth_mbps,
                          dc_high_speed_mbps=dc.high_speed_mbps)


@center_rule("PES008", "hosted-city", "a city without a center names its province's center")
def hosted_city(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    if dc.tier is not Tier.city:
        if dc.hosted_by is not None:
            yield problem("PES008", at(dc, "hosted_by"),
                          N_("only a city is hosted by another center"),
                          N_("remove hosted_by:"))
        return
    if dc.hosted_by is None:
        if not dc.zones:
            yield problem("PES008", at(dc, "name"),
                          N_("city {dc} has no zones and names no hosting center"),
                          N_("describe its zones, or set hosted_by: PROVINCE-CENTER"),
                          dc=dc.name)
        elif dc.stage is None:
            yield problem("PES008", at(dc, "name"),
                          N_("city center {dc} does not say its stage"),
                          N_("add stage: 1, 2 or 3"),
                          dc=dc.name)
        return
    host = topo.datacenters.get(dc.hosted_by)
    if host is not None and (host.tier is not Tier.province or dc.hosted_by != dc.parent):
        yield problem("PES008", at(dc, "hosted_by"),
                      N_("{dc_hosted_by} is not this city's province center"),
                      N_("a city is hosted by its own province: hosted_by: {dc_parent}"),
                      dc_hosted_by=dc.hosted_by, dc_parent=dc.parent)
    for section in ("zones", "servers", "devices", "systems", "databases"):
        if getattr(dc, section):
            yield problem("PES008", at(dc, section),
                          N_("city {dc} is hosted by {dc_hosted_by} but declares {section}"),
                          N_("its {section} live in {dc_hosted_by}'s file; move them there"),
                          dc=dc.name, dc_hosted_by=dc.hosted_by, section=section)
    if dc.stage is not None:
        yield problem("PES008", at(dc, "stage"),
                      N_("a hosted city has no center of its own to stage"),
                      N_("remove stage:"))


@center_rule("PES009", "room-owner", "an agency machine room says whose systems it holds")
def room_owner(topo: Topology, dc: DataCenter) -> Iterator[Diagnostic]:
    for site in dc.sites:
        if site.kind is SiteKind.agency_machine_room and site.owner is None:
            yield problem("PES009", at(site, "kind"),
                          N_("machine room {site} does not name its owner"),
                          N_("add owner: employment_center or talent_center"),
                          site=site.name)
