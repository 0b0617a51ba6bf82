"""The business private network (业务专网) between centers, as one center sees it: the
centers at the far end of its uplinks, and which of its routers reaches each.

An uplink is declared by the lower center (city -> province, province -> ministry,
ministry -> city); the upper center's router holds its end as a ``downlink``
interface (or, for a ministry-city uplink both ends declare, an uplink of its own of
the same subnet). Render derives the firewalls' routes toward the neighbours from
this; the lab joins the centers of a multi-center lab by the same ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from pesdc.model.schema import DataCenter, Device, ZoneKind
from pesdc.model.tree import Topology


@dataclass(frozen=True)
class Neighbour:
    center: str  # the center at the far end
    device: Device  # this center's router (or firewall) that terminates the uplink
    uplink: str  # the uplink's name, in the lower center
    lower: str  # the center that declares the uplink


def _holder(dc: DataCenter, uplink: str, device: str | None) -> Device | None:
    for dev in dc.devices:
        if any(i.uplink == uplink for i in dev.interfaces):
            return dev
    return next((d for d in dc.devices if d.name == device), None)


def neighbours(topo: Topology, dc: DataCenter) -> list[Neighbour]:
    """The centers this one reaches directly over the business private network, each
    through the local device that terminates the uplink; in declaration order, once
    per far center (the first uplink to it wins)."""
    out: list[Neighbour] = []
    seen: set[str] = set()
    for up in dc.uplinks:
        dev = _holder(dc, up.name, up.device)
        if dev is not None and up.peer in topo.datacenters and up.peer not in seen:
            seen.add(up.peer)
            out.append(Neighbour(up.peer, dev, up.name, dc.name))
    for dev in dc.devices:
        for itf in dev.interfaces:
            ref = getattr(itf, "downlink", None)
            if not ref:
                continue
            lower, _, uplink = ref.partition("/")
            if lower in topo.datacenters and lower not in seen:
                seen.add(lower)
                out.append(Neighbour(lower, dev, uplink, lower))
    return out


def center_prefixes(dc: DataCenter) -> list[str]:
    """What a far center offers over the private network: its zones' segments (its own
    private-network access segment and municipal sites stay its own business)."""
    return [s.subnet for z in dc.zones if z.kind is not ZoneKind.private_network
            for s in z.segments]
