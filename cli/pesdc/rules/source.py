"""The source document's rules: where systems run and what each stage allows.

Source: 公共就业服务信息化建设技术方案, sections on deployment (部署方式), the city data
center's three stages (第一/二/三阶段) and the municipal network. See ../shared/BRIEF.md.
"""

from __future__ import annotations

from collections.abc import Iterator

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
from pesdc.rules.registry import at, problem, rule


def _centers(topo: Topology) -> Iterator[tuple[DataCenter, DCIndex]]:
    for dc in topo.datacenters.values():
        if not dc.hosted:
            yield dc, topo.index(dc)


@rule("PES001", "pes-mis-placement",
      "PES MIS runs in the production zone of a city (or province) center")
def pes_mis_placement(topo: Topology) -> Iterator[Diagnostic]:
    for dc, idx in _centers(topo):
        for system in dc.systems:
            if system.kind is not SystemKind.pes_mis:
                continue
            if dc.tier is Tier.ministry:
                yield problem("PES001", at(system, "kind"),
                              "PES MIS is deployed in a city or province center, not the "
                              "ministry's", "move the system to the city center's file")
                continue
            for i, name in enumerate(system.servers):
                srv = idx.servers.get(name)
                zone = idx.zones.get(srv.zone) if srv else None
                if srv is None or zone is None or srv.location != DATACENTER:
                    continue  # REF001, or an agency room (the stage rules judge that)
                if zone.kind is not ZoneKind.production:
                    yield problem("PES001", at(system, "servers", i),
                                  f"PES MIS server {name} is in {zone.kind.value} zone "
                                  f"{zone.name}", "place PES MIS servers in a production "
                                  "zone segment (部署在生产区)")


@rule("PES002", "decision-support-placement", "decision support runs in a decision zone")
def decision_placement(topo: Topology) -> Iterator[Diagnostic]:
    for dc, idx in _centers(topo):
        for system in dc.systems:
            if system.kind is not SystemKind.decision_support:
                continue
            for i, name in enumerate(system.servers):
                srv = idx.servers.get(name)
                zone = idx.zones.get(srv.zone) if srv else None
                if zone is not None and zone.kind is not ZoneKind.decision:
                    yield problem("PES002", at(system, "servers", i),
                                  f"decision support server {name} is in {zone.kind.value} "
                                  f"zone {zone.name}", "place it in a decision zone (决策区)")


@rule("PES003", "internet-through-exchange",
      "internet-facing services reach production only through the exchange zone and a "
      "gatekeeper")
def internet_through_exchange(topo: Topology) -> Iterator[Diagnostic]:
    for dc, idx in _centers(topo):
        kinds = {z.name: z.kind for z in dc.zones}
        has_internet = ZoneKind.internet in kinds.values()
        for iso in dc.isolation:
            pair = {kinds.get(z) for z in iso.between}
            if pair == {ZoneKind.exchange, ZoneKind.production} and has_internet and \
                    iso.type not in (IsolationType.gatekeeper, IsolationType.physical):
                yield problem("PES003", at(iso, "type"),
                              f"exchange <-> production is '{iso.type.value}' in a center "
                              "that serves the internet", "make it type: gatekeeper with a "
                              "one-way direction (网闸), or physical")
        for system in dc.systems:
            if not system.public:
                continue
            for i, name in enumerate(system.servers):
                srv = idx.servers.get(name)
                zone = idx.zones.get(srv.zone) if srv else None
                if zone is not None and zone.kind not in (ZoneKind.internet, ZoneKind.exchange):
                    yield problem("PES003", at(system, "servers", i),
                                  f"public system {system.name} runs on {name} in "
                                  f"{zone.kind.value} zone {zone.name}",
                                  "serve the public from the internet area or the exchange "
                                  "zone; production is reached only through the exchange")


@rule("PES004", "exchange-decision-centralized",
      "exchange- and decision-zone systems are in the center from stage 1 on")
def exchange_decision_centralized(topo: Topology) -> Iterator[Diagnostic]:
    for dc, idx in _centers(topo):
        for srv in dc.servers:
            zone = idx.zones.get(srv.zone)
            if zone is None or srv.location == DATACENTER:
                continue
            if zone.kind in (ZoneKind.exchange, ZoneKind.decision):
                yield problem("PES004", at(srv, "location"),
                              f"{zone.kind.value}-zone server {srv.name} is in machine room "
                              f"{srv.location}", "exchange and decision systems are "
                              "centralized in the data center from stage 1: location: "
                              "datacenter")


def _systems_on(idx: DCIndex, server: str) -> list[str]:
    return [s.name for s in idx.dc.systems if server in s.servers]


@rule("PES005", "stage-2-unified-mis",
      "from stage 2 the unified PES MIS runs in the center; only talent-center systems "
      "stay in an agency room")
def stage_two(topo: Topology) -> Iterator[Diagnostic]:
    for dc, idx in _centers(topo):
        if dc.tier is not Tier.city or (dc.stage or 0) < 2:
            continue
        if not any(s.kind is SystemKind.pes_mis for s in dc.systems) and \
                not topo.invalid_items[dc.name].get("systems"):
            yield problem("PES005", at(dc, "stage"),
                          f"stage {dc.stage} needs the city-wide unified PES MIS, and "
                          f"{dc.name} has none", "add a system with kind: pes_mis, or "
                          "declare stage: 1")
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
                what = f"runs {', '.join(others)}" if others else "runs no declared system"
                yield problem("PES005", at(srv, "location"),
                              f"stage {dc.stage}: server {srv.name} in machine room "
                              f"{srv.location} {what}; only talent-center systems may stay "
                              "in an agency room", "move it to the production zone "
                              "(location: datacenter) or declare stage: 1")


@rule("PES006", "stage-3-centralized", "stage 3 keeps everything in the center")
def stage_three(topo: Topology) -> Iterator[Diagnostic]:
    for dc, _ in _centers(topo):
        if dc.tier is not Tier.city or dc.stage != 3:
            continue
        for section in ("servers", "devices"):
            for obj in getattr(dc, section):
                if obj.location != DATACENTER:
                    yield problem("PES006", at(obj, "location"),
                                  f"stage 3: {section[:-1]} {obj.name} is still in machine "
                                  f"room {obj.location}", "move it to the data center "
                                  "(location: datacenter) or declare stage: 2")


@rule("PES007", "room-high-speed-link",
      "every remaining machine room has a high-speed link to the center")
def room_links(topo: Topology) -> Iterator[Diagnostic]:
    for dc, idx in _centers(topo):
        for room in idx.machine_rooms.values():
            direct = [lk for lk in dc.links if {lk.a, lk.b} == {CENTER, room.name}]
            if not direct and topo.invalid_items.get(dc.name, {}).get("links"):
                continue  # the room's link failed the schema (SCH002/SCH003 says so)
            if not direct:
                yield problem("PES007", at(room, "name"),
                              f"machine room {room.name} has no direct link to the center",
                              f"add a link a: center, b: {room.name}, bandwidth_mbps >= "
                              f"{dc.high_speed_mbps:g}")
                continue
            best = max(direct, key=lambda lk: lk.bandwidth_mbps)
            if best.bandwidth_mbps < dc.high_speed_mbps:
                yield problem("PES007", at(best, "bandwidth_mbps"),
                              f"link {best.name} to machine room {room.name} is "
                              f"{best.bandwidth_mbps:g} Mbit/s, below the high-speed "
                              f"threshold {dc.high_speed_mbps:g}",
                              "raise the bandwidth or set high_speed_mbps: for this center")


@rule("PES008", "hosted-city", "a city without a center names its province's center")
def hosted_city(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        if dc.tier is not Tier.city:
            if dc.hosted_by is not None:
                yield problem("PES008", at(dc, "hosted_by"),
                              "only a city is hosted by another center", "remove hosted_by:")
            continue
        if dc.hosted_by is None:
            if not dc.zones:
                yield problem("PES008", at(dc, "name"),
                              f"city {dc.name} has no zones and names no hosting center",
                              "describe its zones, or set hosted_by: PROVINCE-CENTER")
            elif dc.stage is None:
                yield problem("PES008", at(dc, "name"),
                              f"city center {dc.name} does not say its stage",
                              "add stage: 1, 2 or 3")
            continue
        host = topo.datacenters.get(dc.hosted_by)
        if host is not None and (host.tier is not Tier.province or dc.hosted_by != dc.parent):
            yield problem("PES008", at(dc, "hosted_by"),
                          f"{dc.hosted_by} is not this city's province center",
                          f"a city is hosted by its own province: hosted_by: {dc.parent}")
        for section in ("zones", "servers", "devices", "systems", "databases"):
            if getattr(dc, section):
                yield problem("PES008", at(dc, section),
                              f"city {dc.name} is hosted by {dc.hosted_by} but declares "
                              f"{section}", f"its {section} live in {dc.hosted_by}'s file; "
                              "move them there")
        if dc.stage is not None:
            yield problem("PES008", at(dc, "stage"),
                          "a hosted city has no center of its own to stage",
                          "remove stage:")


@rule("PES009", "room-owner", "an agency machine room says whose systems it holds")
def room_owner(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        for site in dc.sites:
            if site.kind is SiteKind.agency_machine_room and site.owner is None:
                yield problem("PES009", at(site, "kind"),
                              f"machine room {site.name} does not name its owner",
                              "add owner: employment_center or talent_center")
