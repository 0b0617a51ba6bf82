"""The zone policy of a center, normalised once from the isolation matrix.

Aerleon's shape: the topology's isolation entries and flows become a flat list of
rules with concrete networks; every platform generator, the lab probe and the audit
read this one list, so they cannot disagree about what is allowed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pesdc.model.schema import DataCenter, Device, Flow, IsolationType, ZoneKind
from pesdc.model.tree import DCIndex, Topology


@dataclass(frozen=True)
class ZoneInfo:
    name: str
    kind: ZoneKind
    nets: tuple[str, ...]


@dataclass(frozen=True)
class PolicyRule:
    name: str
    src_zone: str
    dst_zone: str
    src_nets: tuple[str, ...]
    dst_nets: tuple[str, ...]
    protocol: str  # tcp, udp, icmp, or "any" (a gatekeeper direction without flows)
    ports: tuple[int, ...]
    via: str  # "firewall" or "gatekeeper"
    # Gatekeeper relays: (listen port, target address, target port) on the source side.
    relays: tuple[tuple[int, str, int], ...] = ()
    description: str = ""


@dataclass
class CenterPolicy:
    dc: str
    zones: dict[str, ZoneInfo]
    pairs: dict[frozenset[str], IsolationType]
    directions: dict[frozenset[str], tuple[str, str]]
    rules: list[PolicyRule] = field(default_factory=list)

    def isolation(self, a: str, b: str) -> IsolationType | None:
        """The declared isolation of a pair; None means not declared (denied)."""
        return self.pairs.get(frozenset((a, b)))

    def rules_between(self, src: str, dst: str) -> list[PolicyRule]:
        return [r for r in self.rules if r.src_zone == src and r.dst_zone == dst]

    def allows(self, src_zone: str, dst_zone: str, protocol: str, port: int | None,
               src_addr: str | None = None, dst_addr: str | None = None) -> bool:
        """Whether a new connection is allowed: the expected result of a probe."""
        if src_zone == dst_zone:
            return True
        kind = self.isolation(src_zone, dst_zone)
        if kind is IsolationType.none:
            return True
        for r in self.rules_between(src_zone, dst_zone):
            if r.protocol not in ("any", protocol):
                continue
            if r.protocol != "any" and protocol != "icmp" and port not in r.ports:
                continue
            if src_addr and not _in_any(src_addr, r.src_nets):
                continue
            if dst_addr and not _in_any(dst_addr, r.dst_nets):
                continue
            return True
        return False


def _in_any(addr: str, nets: tuple[str, ...]) -> bool:
    ip = ipaddress.ip_address(addr)
    return any(ip in ipaddress.ip_network(n) for n in nets)


def zone_nets(idx: DCIndex, zone: str) -> tuple[str, ...]:
    """A zone's address space. The private-network access area also stands for the
    municipal sites and links behind it: agencies reach the center from there."""
    z = idx.zones[zone]
    nets = [s.subnet for s in z.segments]
    if z.kind is ZoneKind.private_network:
        nets += [s.subnet for s in idx.dc.sites if s.subnet]
        nets += [lk.subnet for lk in idx.dc.links if lk.subnet]
    return tuple(nets)


def _endpoint_nets(idx: DCIndex, zone: str, systems: list[str]) -> tuple[str, ...]:
    if systems:
        addrs = sorted({idx.servers[s].address for name in systems
                        for s in idx.systems[name].servers
                        if s in idx.servers and idx.servers[s].zone == zone},
                       key=ipaddress.ip_address)
        return tuple(f"{a}/32" for a in addrs)
    return zone_nets(idx, zone)


def _side_nets(topo: Topology, idx: DCIndex, zone: str, systems: list[str],
               remote: list[str]) -> tuple[str, ...]:
    """One side of a flow: servers of other centers when it names them (the side is
    the private-network zone, across the uplinks), else the zone's systems or the zone."""
    if remote:
        from pesdc.crosscenter import remote_nets

        return remote_nets(topo, remote)
    return _endpoint_nets(idx, zone, systems)


def _rule_name(flow: Flow, i: int) -> str:
    if flow.name:
        return flow.name
    ports = "-".join(str(p) for p in flow.ports) or "any"
    return f"{flow.src}-to-{flow.dst}-{flow.protocol.value}-{ports}-{i}"


def build(topo: Topology, dc: DataCenter) -> CenterPolicy:
    idx = topo.index(dc)
    zones = {z.name: ZoneInfo(z.name, z.kind, zone_nets(idx, z.name)) for z in dc.zones}
    pol = CenterPolicy(dc.name, zones, {}, {})
    names: dict[str, int] = {}

    def unique(name: str) -> str:
        # Vendor policies key rules by name: a repeated flow name would merge two rules.
        names[name] = names.get(name, 0) + 1
        return name if names[name] == 1 else f"{name}-{names[name]}"

    for iso in dc.isolation:
        pair = frozenset(iso.between)
        pol.pairs[pair] = iso.type
        if iso.one_way:
            pol.directions[pair] = iso.one_way
        if iso.type not in (IsolationType.firewall, IsolationType.gatekeeper):
            continue
        via = iso.type.value
        if iso.type is IsolationType.gatekeeper and not iso.flows:
            src, dst = iso.one_way  # type: ignore[misc]
            pol.rules.append(PolicyRule(unique(f"{src}-to-{dst}-one-way"), src, dst,
                                        zones[src].nets, zones[dst].nets, "any", (), via,
                                        description=iso.description or "one-way crossing"))
            continue
        for i, flow in enumerate(iso.flows):
            src_nets = _side_nets(topo, idx, flow.src, flow.src_systems, flow.src_remote)
            dst_nets = _side_nets(topo, idx, flow.dst, flow.dst_systems, flow.dst_remote)
            if (flow.src_remote and not src_nets) or (flow.dst_remote and not dst_nets):
                continue  # a far end that resolves to nothing (XC001) opens nothing
            relays: tuple[tuple[int, str, int], ...] = ()
            if iso.type is IsolationType.gatekeeper:
                targets = [n.split("/")[0] for n in dst_nets] if flow.dst_systems else []
                if targets:
                    # A 网闸 relays each port to one server of the destination system.
                    relays = tuple((p, targets[0], p) for p in flow.ports)
            pol.rules.append(PolicyRule(
                unique(_rule_name(flow, i)), flow.src, flow.dst, src_nets, dst_nets,
                flow.protocol.value, tuple(flow.ports), via, relays,
                flow.description or ""))
    return pol


def device_zones(idx: DCIndex, device: Device) -> list[str]:
    """The zones a device has an interface in, in interface order, once each."""
    out: list[str] = []
    for itf in device.interfaces:
        zone = idx.segment_zone.get(itf.segment) if itf.segment else None
        if zone is not None and zone.name not in out:
            out.append(zone.name)
    return out


def rules_enforced_by(pol: CenterPolicy, idx: DCIndex, device: Device) -> list[PolicyRule]:
    """The rules a firewall or gatekeeper carries: those between two of its zones."""
    zones = set(device_zones(idx, device))
    via = "gatekeeper" if device.kind.value == "gatekeeper" else "firewall"
    return [r for r in pol.rules
            if r.via == via and r.src_zone in zones and r.dst_zone in zones]
