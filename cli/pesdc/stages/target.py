"""The move to a stage: which servers and devices leave which machine rooms, where they
land (segment, a real free address), which firewall flows must be opened first, which
rooms empty out; and the target topology after the move.

The servers that must move are the ones the stage rules name (``check.stage_diagnostics``
at the target stage), closed over their systems and databases (a system moves whole).
With a second topology (``--target``) the moves are read from it instead.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pesdc.addrspace import count_free, iter_free
from pesdc.model.diagnostics import N_, Marked
from pesdc.model.loader import TREE_MARKER
from pesdc.model.schema import (
    DataCenter,
    Device,
    Flow,
    Isolation,
    IsolationType,
    Link,
    Protocol,
    Server,
    System,
    ZoneKind,
)
from pesdc.model.tree import CENTER, DCIndex, Topology
from pesdc.stages.check import stage_diagnostics

DATACENTER = "datacenter"
RESERVED_HOSTS = 9  # .1-.9 of a segment: gateway VIP, firewall and switch legs


class StageError(Exception):
    """A move that cannot be planned (told to the user, never a traceback)."""


@dataclass
class ServerMove:
    server: str
    room: str
    zone: str
    segment: str
    old_address: str
    new_address: str
    roles: list[str]
    systems: list[str]
    databases: list[str]  # databases it is primary or standby of


@dataclass
class DeviceMove:
    device: str
    room: str
    old_mgmt: str
    new_mgmt: str
    segment: str


@dataclass
class FlowToOpen:
    between: tuple[str, str]
    flow: Flow
    system: str
    why: str


@dataclass
class SegmentCapacity:
    segment: str
    zone: str
    subnet: str
    free_before: int
    needed: int
    assigned: list[str]

    @property
    def free_after(self) -> int:
        return self.free_before - self.needed


@dataclass
class RoomLink:
    room: str
    link: str | None
    bandwidth_mbps: float
    latency_ms: float
    high_speed: bool

    def seconds_per_gib(self) -> float:
        return round(8 * 1024 / self.bandwidth_mbps, 1) if self.bandwidth_mbps else 0.0


@dataclass
class StagePlan:
    dc: str
    file: str
    from_stage: int | None
    to_stage: int
    moves: list[ServerMove] = field(default_factory=list)
    device_moves: list[DeviceMove] = field(default_factory=list)
    flows: list[FlowToOpen] = field(default_factory=list)
    capacity: list[SegmentCapacity] = field(default_factory=list)
    room_links: dict[str, RoomLink] = field(default_factory=dict)
    rooms_decommissioned: list[str] = field(default_factory=list)
    links_removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    target: DataCenter | None = None

    def systems(self, idx: DCIndex) -> list[System]:
        moving = {m.server for m in self.moves}
        return [s for s in idx.dc.systems if moving & set(s.servers)]

    def moves_of(self, system: System) -> list[ServerMove]:
        return [m for m in self.moves if m.server in system.servers]


# -- what moves ------------------------------------------------------------------------
def _named_objects(dc: DataCenter, diags_paths: list[tuple[Any, ...]]) -> tuple[set[str],
                                                                                set[str]]:
    servers: set[str] = set()
    devices: set[str] = set()
    for path in diags_paths:
        # ("datacenter", "servers", i, "location") as the stage rules point
        if len(path) >= 3 and path[1] in ("servers", "devices") and isinstance(path[2], int):
            items = dc.servers if path[1] == "servers" else dc.devices
            if path[2] < len(items):
                (servers if path[1] == "servers" else devices).add(items[path[2]].name)
    return servers, devices


def _close_over(dc: DataCenter, servers: set[str]) -> set[str]:
    """A system moves whole, and a database with its primary and standby."""
    in_room = {s.name for s in dc.servers if s.location != DATACENTER}
    out = set(servers)
    changed = True
    while changed:
        changed = False
        for system in dc.systems:
            if out & set(system.servers):
                extra = (set(system.servers) & in_room) - out
                db = next((d for d in dc.databases if d.name == system.database), None)
                if db is not None:
                    extra |= ({db.primary, db.standby or ""} & in_room) - out
                if extra:
                    out |= extra
                    changed = True
        for db in dc.databases:
            pair = {db.primary, db.standby or ""} & in_room
            if out & pair and pair - out:
                out |= pair
                changed = True
    return out


def _target_segment(idx: DCIndex, srv: Server) -> str | None:
    zone = idx.zones.get(srv.zone)
    if zone is None or not zone.segments:
        return None
    roles = {r.value for r in srv.roles}
    segs = zone.segments
    if roles == {"database"}:
        db = [s for s in segs if "db" in s.name]
        if db:
            return db[0].name
    app = [s for s in segs if "db" not in s.name]
    return (app or segs)[0].name


def used_addresses(dc: DataCenter) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    used = {ipaddress.ip_address(s.address) for s in dc.servers}
    for dev in dc.devices:
        used.add(ipaddress.ip_address(dev.mgmt))
        used |= {ipaddress.ip_address(i.address) for i in dev.interfaces if i.address}
        if dev.loopback:
            used.add(ipaddress.ip_address(dev.loopback))
    for z in dc.zones:
        used |= {ipaddress.ip_address(s.gateway) for s in z.segments if s.gateway}
    return used


def free_count(subnet: str, used: set[Any]) -> int:
    """Free addresses of a segment past the reserved ones, counted, never listed."""
    return count_free(ipaddress.ip_network(subnet), used, skip=RESERVED_HOSTS)


def first_free(subnet: str, used: set[Any]) -> str | None:
    """The lowest free address of a segment past the reserved ones, or None when full."""
    free = iter_free(ipaddress.ip_network(subnet), used, skip=RESERVED_HOSTS)
    return next((str(a) for a in free), None)


def _room_link(dc: DataCenter, room: str) -> RoomLink:
    direct = [lk for lk in dc.links if {lk.a, lk.b} == {CENTER, room}]
    if not direct:
        return RoomLink(room, None, 0.0, 0.0, False)
    best = max(direct, key=lambda lk: lk.bandwidth_mbps)
    return RoomLink(room, best.name, best.bandwidth_mbps, best.latency_ms,
                    best.bandwidth_mbps >= dc.high_speed_mbps)


def _covered(existing: Flow, need: Flow) -> bool:
    if (existing.src, existing.dst) != (need.src, need.dst):
        return False
    if existing.protocol is not need.protocol:
        return False
    if need.protocol is not Protocol.icmp and not set(need.ports) <= set(existing.ports):
        return False
    if existing.src_systems and not set(need.src_systems) <= set(existing.src_systems):
        return False
    return not (existing.dst_systems and
                not set(need.dst_systems) <= set(existing.dst_systems))


def _pair(dc: DataCenter, a: str, b: str) -> Isolation | None:
    return next((i for i in dc.isolation if set(i.between) == {a, b}), None)


def _flows_needed(dc: DataCenter, idx: DCIndex, system: System, zone: str
                  ) -> tuple[list[FlowToOpen], list[str]]:
    """Flows the system needs in its new zone that the isolation matrix lacks."""
    problems: list[str] = []
    needs: list[tuple[Flow, str]] = []
    pn = [z.name for z in idx.zones_of_kind(ZoneKind.private_network)]
    for p in pn:
        # (a) The agencies reached the room over the municipal network, no firewall in
        # between; in the center they cross the private-network/zone boundary.
        by_proto: dict[str, list[int]] = {}
        for port in system.ports:
            by_proto.setdefault(port.protocol, []).append(port.port)
        for proto, ports in sorted(by_proto.items()):
            needs.append((Flow(name=f"agencies-to-{system.name}", src=p, dst=zone,
                               dst_systems=[system.name], protocol=Protocol(proto),
                               ports=sorted(ports),
                               description=f"agencies reach {system.name} in the center "
                                           "(was in its machine room)"),
                          "agencies used it in its machine room"))
        # (b) Whatever crossed between the room (private network) and another zone for
        # this system: the same crossing from its new zone.
        for pair_iso in dc.isolation:
            if p not in pair_iso.between or pair_iso.type not in (IsolationType.firewall,
                                                                  IsolationType.gatekeeper):
                continue
            other = pair_iso.between[0] if pair_iso.between[1] == p else pair_iso.between[1]
            if other == zone:
                continue
            for flow in pair_iso.flows:
                # Zone-wide flows of the private network stand for every site; the
                # ones to and from the security management zone (operations, logs,
                # time) are what every room host used. Others only when they name it.
                wide = idx.zones[other].kind is ZoneKind.security_management \
                    if other in idx.zones else False
                mine_src = flow.src == p and (system.name in flow.src_systems
                                              or (wide and not flow.src_systems))
                mine_dst = flow.dst == p and (system.name in flow.dst_systems
                                              or (wide and not flow.dst_systems))
                if not (mine_src or mine_dst):
                    continue
                new = flow.model_copy(update={
                    "name": f"{system.name}-{flow.name or 'flow'}",
                    "src": zone if flow.src == p else flow.src,
                    "dst": zone if flow.dst == p else flow.dst,
                    "src_systems": [system.name] if flow.src == p else flow.src_systems,
                    "dst_systems": [system.name] if flow.dst == p else flow.dst_systems,
                    "description": f"{flow.name or 'flow'} from {system.name}'s new zone"})
                needs.append((new, f"it used {flow.name or 'a flow'} from its machine room"))
    out: list[FlowToOpen] = []
    for need, why in needs:
        pair = _pair(dc, need.src, need.dst)
        iso = pair
        if iso is not None and iso.type is IsolationType.none:
            continue
        if iso is not None and any(_covered(f, need) for f in iso.flows):
            continue
        if iso is not None and iso.type is IsolationType.gatekeeper and not iso.flows and \
                iso.one_way == (need.src, need.dst):
            continue
        if iso is not None and iso.type is IsolationType.physical:
            problems.append(Marked(N_("{system} needs {src} -> {dst} {protocol} {ports}, but "
                                      "that pair is physically isolated"),
                                   system=system.name, src=need.src, dst=need.dst,
                                   protocol=need.protocol.value, ports=need.ports))
            continue
        if iso is not None and iso.type is IsolationType.gatekeeper and \
                iso.one_way != (need.src, need.dst):
            problems.append(Marked(N_("{system} needs {src} -> {dst} against the "
                                      "gatekeeper's one-way direction {direction}"),
                                   system=system.name, src=need.src, dst=need.dst,
                                   direction=iso.direction))
            continue
        a, b = sorted((need.src, need.dst))
        out.append(FlowToOpen((a, b), need, system.name, why))
    return out, problems


def derive(topo: Topology, dc_name: str, to_stage: int,
           target_topo: Topology | None = None) -> StagePlan:
    """The move of a city to ``to_stage``: what leaves the machine rooms (from the stage
    rules, or from ``target_topo`` when given), where it goes, the flows to open first,
    what blocks it, and the target center."""
    dc = _stageable(topo, dc_name)
    idx = topo.index(dc)
    plan = StagePlan(dc.name, topo.dc_file.get(dc.name, ""), dc.stage, to_stage)
    tdc = _target_center(target_topo, dc_name) if target_topo is not None else None
    servers, devices = _leaving(topo, dc, to_stage, tdc)
    used = used_addresses(dc)
    _move_servers(plan, idx, servers, tdc, used)
    _move_devices(plan, idx, devices, used)
    for room, rl in plan.room_links.items():
        if not rl.high_speed:
            plan.problems.append(Marked(
                N_("machine room {room} has no high-speed link to the center ({have} Mbit/s "
                   "< {need}): raise it before moving data over it"), room=room,
                have=f"{rl.bandwidth_mbps:g}", need=f"{dc.high_speed_mbps:g}"))
    _open_flows(plan, idx)
    plan.target = build_target(dc, plan)
    kept = {s.name for s in plan.target.sites}
    plan.rooms_decommissioned = sorted(s.name for s in dc.sites if s.name not in kept
                                       and s.kind.value == "agency_machine_room")
    tl = {lk.name for lk in plan.target.links}
    plan.links_removed = sorted(lk.name for lk in dc.links if lk.name not in tl)
    return plan


def _stageable(topo: Topology, dc_name: str) -> DataCenter:
    if dc_name not in topo.datacenters:
        raise StageError(Marked(N_("unknown data center {name!r}"), name=dc_name))
    dc = topo.datacenters[dc_name]
    if dc.hosted or not dc.zones:
        raise StageError(Marked(N_("{name} has no center of its own to stage"), name=dc_name))
    return dc


def _target_center(target_topo: Topology, dc_name: str) -> DataCenter:
    if dc_name not in target_topo.datacenters:
        raise StageError(Marked(N_("the target topology has no center {name!r}"),
                                name=dc_name))
    return target_topo.datacenters[dc_name]


def _leaving(topo: Topology, dc: DataCenter, to_stage: int,
             tdc: DataCenter | None) -> tuple[set[str], set[str]]:
    """The servers and devices that leave their machine rooms: those the target center
    has in the data center, or those the stage rules name (with what they need along)."""
    if tdc is not None:
        tsrv = {s.name: s for s in tdc.servers}
        tdev = {d.name: d for d in tdc.devices}
        servers = {s.name for s in dc.servers if s.location != DATACENTER
                   and s.name in tsrv and tsrv[s.name].location == DATACENTER}
        devices = {d.name for d in dc.devices if d.location != DATACENTER
                   and d.name in tdev and tdev[d.name].location == DATACENTER}
        return servers, devices
    paths = [d.path for d in stage_diagnostics(topo, dc, to_stage)
             if d.rule in ("PES004", "PES005", "PES006")]
    servers, devices = _named_objects(dc, paths)
    return _close_over(dc, servers), devices


def _segment_for(plan: StagePlan, idx: DCIndex, srv: Server,
                 tdc: DataCenter | None) -> tuple[str | None, str | None]:
    """The segment a server moves into and its address there (None: pick a free one);
    no segment (and a problem noted) when there is none to move it into."""
    new = None
    if tdc is not None:
        t = next(s for s in tdc.servers if s.name == srv.name)
        seg_name, new = t.segment, t.address
        if seg_name is None:
            plan.problems.append(Marked(N_("target server {server} has no segment"),
                                        server=srv.name))
            return None, None
    else:
        seg_name = _target_segment(idx, srv)
    if seg_name is None or seg_name not in idx.segments:
        plan.problems.append(Marked(N_("zone {zone} of server {server} has no segment to "
                                       "move it into"), zone=srv.zone, server=srv.name))
        return None, None
    return seg_name, new


def _move_servers(plan: StagePlan, idx: DCIndex, servers: set[str], tdc: DataCenter | None,
                  used: set[Any]) -> None:
    """Each leaving server's new segment and address, and the segments' capacity."""
    dc = idx.dc
    caps: dict[str, SegmentCapacity] = {}
    for srv in dc.servers:
        if srv.name not in servers:
            continue
        seg_name, new = _segment_for(plan, idx, srv, tdc)
        if seg_name is None:
            continue
        seg = idx.segments[seg_name]
        if seg_name not in caps:
            caps[seg_name] = SegmentCapacity(seg_name, idx.segment_zone[seg_name].name,
                                             seg.subnet,
                                             free_count(seg.subnet, used), 0, [])
        if new is None:
            new = first_free(seg.subnet, used)
            if new is None:
                plan.problems.append(Marked(N_("segment {segment} ({subnet}) has no free "
                                               "address for {server}"), segment=seg_name,
                                            subnet=seg.subnet, server=srv.name))
                continue
        used.add(ipaddress.ip_address(new))
        caps[seg_name].needed += 1
        caps[seg_name].assigned.append(f"{srv.name} {new}")
        systems = [s.name for s in dc.systems if srv.name in s.servers]
        dbs = [d.name for d in dc.databases if srv.name in (d.primary, d.standby)]
        plan.moves.append(ServerMove(srv.name, srv.location, srv.zone, seg_name,
                                     srv.address, new, [r.value for r in srv.roles],
                                     systems, dbs))
        plan.room_links.setdefault(srv.location, _room_link(dc, srv.location))
    plan.capacity = list(caps.values())


def _move_devices(plan: StagePlan, idx: DCIndex, devices: set[str], used: set[Any]) -> None:
    """Each leaving device's new management address, in the security management zone."""
    dc = idx.dc
    mgmt_segs = [s for z in idx.zones_of_kind(ZoneKind.security_management)
                 for s in z.segments]
    for dev in dc.devices:
        if dev.name not in devices:
            continue
        if not mgmt_segs:
            plan.problems.append(Marked(N_("no security management segment for device "
                                           "{device}"), device=dev.name))
            continue
        mgmt = first_free(mgmt_segs[0].subnet, used)
        if mgmt is None:
            plan.problems.append(Marked(N_("no free management address for device {device}"),
                                        device=dev.name))
            continue
        used.add(ipaddress.ip_address(mgmt))
        plan.device_moves.append(DeviceMove(dev.name, dev.location, dev.mgmt, mgmt,
                                            mgmt_segs[0].name))
        plan.room_links.setdefault(dev.location, _room_link(dc, dev.location))


def _open_flows(plan: StagePlan, idx: DCIndex) -> None:
    """The flows each moving system needs in the center, once each, opened first."""
    seen: set[tuple[Any, ...]] = set()
    for system in plan.systems(idx):
        zone = next((m.zone for m in plan.moves_of(system)), None)
        if zone is None:
            continue
        flows, problems = _flows_needed(idx.dc, idx, system, zone)
        plan.problems += problems
        for f in flows:
            key = (f.flow.src, f.flow.dst, f.flow.protocol, tuple(f.flow.ports),
                   tuple(f.flow.src_systems), tuple(f.flow.dst_systems))
            if key not in seen:
                seen.add(key)
                plan.flows.append(f)


# -- the target topology ---------------------------------------------------------------
def build_target(dc: DataCenter, plan: StagePlan) -> DataCenter:
    tdc = dc.model_copy(deep=True)
    moves = {m.server: m for m in plan.moves}
    dmoves = {m.device: m for m in plan.device_moves}
    servers: list[Server] = []
    for srv in tdc.servers:
        m = moves.get(srv.name)
        if m is not None:
            srv = srv.model_copy(update={"location": DATACENTER, "segment": m.segment,
                                         "address": m.new_address})
        servers.append(srv)
    devices: list[Device] = []
    for dev in tdc.devices:
        dm = dmoves.get(dev.name)
        if dm is not None:
            room = next((s for s in dc.sites if s.name == dm.room), None)
            keep = [i for i in dev.interfaces if not (
                room is not None and room.subnet and i.address and
                ipaddress.ip_address(i.address) in ipaddress.ip_network(room.subnet))]
            dev = dev.model_copy(update={"location": DATACENTER, "mgmt": dm.new_mgmt,
                                         "interfaces": keep})
        devices.append(dev)
    occupied = {s.location for s in servers} | {d.location for d in devices}
    gone = {s.name for s in tdc.sites if s.kind.value == "agency_machine_room"
            and s.name not in occupied and s.name in plan.room_links}
    if plan.to_stage == 3:
        gone |= {s.name for s in tdc.sites if s.kind.value == "agency_machine_room"
                 and s.name not in occupied}
    sites = [s for s in tdc.sites if s.name not in gone]
    links: list[Link] = [lk for lk in tdc.links if lk.a not in gone and lk.b not in gone]
    gone_links = {lk.name for lk in tdc.links} - {lk.name for lk in links}
    devices = [d.model_copy(update={"interfaces": [i for i in d.interfaces
                                                   if i.link not in gone_links]})
               if any(i.link in gone_links for i in d.interfaces) else d for d in devices]
    isolation = list(tdc.isolation)
    for fo in plan.flows:
        found = _pair(tdc, *fo.between)
        if found is None:
            found = Isolation(between=list(fo.between), type=IsolationType.firewall, flows=[])
            isolation.append(found)
            tdc.isolation = isolation
        found.flows = [*found.flows, fo.flow]
    return tdc.model_copy(update={"servers": servers, "devices": devices, "sites": sites,
                                  "links": links, "isolation": isolation,
                                  "stage": plan.to_stage})


def dump_center(dc: DataCenter, header: str = "") -> str:
    data = {"datacenter": dc.model_dump(mode="json", exclude_unset=True)}
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return header + text


def write_target_tree(topo: Topology, plan: StagePlan, out_dir: Path) -> Path:
    """The whole tree with the city's file replaced by the target: returns the city file.

    The other files are copied as they are, so the target validates (and runs in the
    lab) as the current tree does. The city's items are written with their inherited
    values spelled out (its own ``defaults:`` block is folded in)."""
    assert plan.target is not None
    files = {d: p.resolve() for d, p in topo.files.items()}
    root = Path(os.path.commonpath([str(p.parent) for p in files.values()]))
    city_file = files.get(plan.file)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = out_dir
    for display, src in files.items():
        rel = src.relative_to(root)
        dst = out_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src == city_file:
            header = (f"# Target of {plan.dc} at stage {plan.to_stage}, written by "
                      f"`pesdc stage plan` from {display}.\n# Servers moved into the "
                      "center; emptied machine rooms removed; flows opened first added.\n")
            dst.write_text(dump_center(plan.target, header), encoding="utf-8")
            written = dst
        else:
            shutil.copyfile(src, dst)
    # The target is a tree of its own: mark its root, so that one file of it opened
    # alone gets the same tree defaults and nothing from above the output folder.
    (out_dir / TREE_MARKER).write_text(f"# pesdc tree root (target of {plan.dc})\n",
                                       encoding="utf-8")
    return written
