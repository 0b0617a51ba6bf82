"""The graded-protection structure a topology is judged by, each norm stated once.

Validation (rules MLPS001-003: a diagnostic at the file, line and column to change) and
the audit (AUD-CN-03, AUD-CN-06, AUD-MC-01, AUD-CE-20: an outcome with its evidence)
judge the same structure of a center (GB/T 22239-2019 level 3, 8.1.2.1 and 8.1.5).
Both ask these predicates, so a topology cannot pass one and fail the other on the
same norm; each keeps its own words and its own severity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from pesdc.model.schema import (
    Database,
    DataCenter,
    Device,
    DeviceKind,
    Flow,
    Isolation,
    IsolationType,
    ServerRole,
    Zone,
    ZoneKind,
)

# The zones an attacker must not reach from the internet area (8.1.2.1 b).
IMPORTANT_ZONES = (ZoneKind.production, ZoneKind.decision, ZoneKind.security_management)

# ------------------------------------------------------------- redundancy (8.1.2.1 c)


def needs_partner(dev: Device) -> bool:
    """Core switches and border firewalls are the key devices that need redundancy."""
    return dev.kind is DeviceKind.core_switch or (
        dev.kind is DeviceKind.firewall and bool(dev.border))


class Pairing(Enum):
    none = "none"  # no redundancy partner named
    unknown = "unknown"  # the partner named is not a device of the center
    not_another = "not_another"  # the device itself, or a device of another kind
    one_sided = "one_sided"  # the partner does not name the device back
    mutual = "mutual"  # two devices of the same kind naming each other


def pairing(dev: Device, devices: Mapping[str, Device]) -> Pairing:
    if dev.redundancy is None:
        return Pairing.none
    partner = devices.get(dev.redundancy)
    if partner is None:
        return Pairing.unknown
    if partner.name == dev.name or partner.kind is not dev.kind:
        return Pairing.not_another
    if partner.redundancy != dev.name:
        return Pairing.one_sided
    return Pairing.mutual


def has_standby(db: Database) -> bool:
    """A hot standby on another server than the primary (8.1.4.9)."""
    return db.standby is not None and db.standby != db.primary


# ------------------------------------------------------- security management (8.1.5)


def management_zones(dc: DataCenter) -> list[Zone]:
    return [z for z in dc.zones if z.kind is ZoneKind.security_management]


def managers(dc: DataCenter, role: ServerRole) -> list[str]:
    """The servers holding ``role`` in the security management zone; for the bastion,
    bastion appliances count as well."""
    zones = {z.name for z in management_zones(dc)}
    have = [s.name for s in dc.servers if s.zone in zones and role in s.roles]
    if role is ServerRole.bastion:
        have += [d.name for d in dc.devices if d.kind is DeviceKind.bastion]
    return have


# ------------------------------------------------ important zones at the boundary


def to_collectors(dst: ZoneKind | None, flow: Flow) -> bool:
    """Hosts in the internet area still send their logs and ask the time: a flow into
    the security management zone aimed at named systems (its collectors) is no
    exposure; one into the whole zone is."""
    return dst is ZoneKind.security_management and bool(flow.dst_systems)


class Opening(Enum):
    not_isolated = "none"  # an isolation of type none
    inward = "inward"  # a gatekeeper whose one way points into the important zone
    flow = "flow"  # a flow from the internet area into the important zone


@dataclass(frozen=True)
class Exposure:
    """An important zone open to the internet area, and through what."""

    how: Opening
    isolation: Isolation
    outside: str  # the internet zone
    inside: str  # the important zone
    kind: ZoneKind  # the important zone's kind
    flow: int | None = None  # the flow's index in isolation.flows (Opening.flow)


def exposures(dc: DataCenter) -> Iterator[Exposure]:
    """Every way the internet area may open a connection into an important zone.

    Important zones may reach out (the bastion manages hosts in the internet area
    through the firewall), but an isolation of type none, a gatekeeper pointing inward
    or a flow from the internet side (other than to the collectors) puts the zone at
    the boundary. Per isolation: the isolation itself first, then its flows in order.
    """
    kinds = {z.name: z.kind for z in dc.zones}
    for iso in dc.isolation:
        a, b = iso.between
        if ZoneKind.internet not in (kinds.get(a), kinds.get(b)):
            continue
        outside, inside = (a, b) if kinds.get(a) is ZoneKind.internet else (b, a)
        inner = kinds.get(inside)
        if inner not in IMPORTANT_ZONES:
            continue
        if iso.type is IsolationType.none:
            yield Exposure(Opening.not_isolated, iso, outside, inside, inner)
        elif iso.one_way == (outside, inside):
            yield Exposure(Opening.inward, iso, outside, inside, inner)
        for i, f in enumerate(iso.flows):
            if f.src == outside and not to_collectors(inner, f):
                yield Exposure(Opening.flow, iso, outside, inside, inner, i)
