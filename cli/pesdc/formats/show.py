"""``pesdc show --format json``: what the tables show, per center, in tier order."""

from __future__ import annotations

from typing import Any

from pesdc.model.schema import DataCenter, Title
from pesdc.model.tree import Topology


def _s(value: object) -> Any:
    """A field as JSON: None stays null, an enum its value, an address its text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(getattr(value, "value", value))


def _title(title: Title | None) -> dict[str, str] | None:
    return {"zh": title.zh, "en": title.en} if title is not None else None


def _zones(dc: DataCenter) -> list[dict[str, Any]]:
    return [{"name": z.name, "kind": _s(z.kind), "title": _title(z.title),
             "segments": [{"name": s.name, "subnet": _s(s.subnet), "gateway": _s(s.gateway),
                           "vlan": s.vlan} for s in z.segments]} for z in dc.zones]


def _isolation(dc: DataCenter) -> list[dict[str, Any]]:
    """The matrix as pairs, each once (a before b in zone order): its kind as the table
    shows it (physical, gatekeeper, firewall, none; denied: no isolation entry)."""
    from pesdc.graph import isolation_cell

    names = [z.name for z in dc.zones]
    return [{"a": a, "b": b, "kind": isolation_cell(dc, a, b).kind}
            for i, a in enumerate(names) for b in names[i + 1:]]


def _functions(dc: DataCenter) -> list[dict[str, Any]]:
    from pesdc.catalog import trace_functions

    return [{"id": t.function.id, "title": {"zh": t.function.zh, "en": t.function.en},
             "complete": t.complete, "missing": [_s(k) for k in t.missing],
             "systems": {_s(kind): [s.name for s in systems] for kind, systems in t.by_kind}}
            for t in trace_functions(dc)]


def _machine_rooms(dc: DataCenter, topology: Topology) -> list[dict[str, Any]]:
    ix = topology.index(dc)
    out = []
    for room in ix.machine_rooms.values():
        hosts = [s.name for s in dc.servers if s.location == room.name]
        hosts += [d.name for d in dc.devices if d.location == room.name]
        out.append({"name": room.name, "owner": _s(room.owner), "hosts": hosts,
                    "links": [lk.name for lk in ix.links_of(room.name)]})
    return out


def center(dc: DataCenter, topology: Topology, defaults: list[str]) -> dict[str, Any]:
    """One center: its header and every section of ``pesdc show``; a hosted center (no
    center of its own) has empty zones, devices, servers, databases, systems, functions."""
    own = not dc.hosted
    return {
        "name": dc.name, "title": _title(dc.title), "tier": _s(dc.tier),
        "division_code": _s(dc.division_code), "parent": dc.parent, "stage": dc.stage,
        "hosted_by": dc.hosted_by, "defaults": defaults,
        "zones": _zones(dc) if own else [],
        "isolation": _isolation(dc) if own else [],
        "devices": [{"name": d.name, "kind": _s(d.kind), "border": d.border,
                     "platform": _s(d.platform), "model": d.model, "mgmt": _s(d.mgmt),
                     "redundancy": d.redundancy, "location": d.location}
                    for d in dc.devices] if own else [],
        "servers": [{"name": s.name, "roles": [_s(r) for r in s.roles], "zone": s.zone,
                     "segment": s.segment, "address": _s(s.address), "os": _s(s.os),
                     "os_release": s.os_release, "location": s.location}
                    for s in dc.servers] if own else [],
        "databases": [{"name": db.name, "engine": _s(db.engine), "version": db.version,
                       "primary": db.primary, "standby": db.standby,
                       "backup_target": db.backup_target, "port": db.port}
                      for db in dc.databases] if own else [],
        "systems": [{"name": s.name, "kind": _s(s.kind), "owner": _s(s.owner),
                     "servers": list(s.servers), "public": s.public,
                     "ports": [{"port": p.port, "protocol": p.protocol} for p in s.ports]}
                    for s in dc.systems] if own else [],
        "functions": _functions(dc) if own else [],
        "sites": [{"name": s.name, "kind": _s(s.kind), "title": _title(s.title),
                   "parent": s.parent, "subnet": _s(s.subnet), "router": _s(s.router),
                   "owner": _s(s.owner)} for s in dc.sites],
        "links": [{"name": lk.name, "a": lk.a, "b": lk.b, "bandwidth_mbps": lk.bandwidth_mbps,
                   "latency_ms": lk.latency_ms, "encryption": _s(lk.encryption),
                   "shared_with_social_insurance": lk.shared_with_social_insurance,
                   "subnet": _s(lk.subnet)} for lk in dc.links],
        "uplinks": [{"name": up.name, "kind": _s(up.kind), "peer": up.peer,
                     "bandwidth_mbps": up.bandwidth_mbps, "latency_ms": up.latency_ms,
                     "encryption": _s(up.encryption), "device": up.device,
                     "subnet": _s(up.subnet)} for up in dc.uplinks],
        "machine_rooms": _machine_rooms(dc, topology),
    }


def build(topology: Topology, centers: list[DataCenter],
          defaults: dict[str, list[str]]) -> dict[str, Any]:
    """The body of the ``show`` document: the centers shown, in the order shown."""
    return {"centers": [center(dc, topology, defaults.get(dc.name, [])) for dc in centers]}
