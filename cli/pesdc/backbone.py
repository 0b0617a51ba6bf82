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
from typing import Any

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
    per far center (the first uplink to it wins). An upper end (a ``downlink``) is an
    uplink here too: the loader mirrored it (pesdc.model.downlinks)."""
    out: list[Neighbour] = []
    seen: set[str] = set()
    for up in dc.uplinks:
        dev = _holder(dc, up.name, up.device)
        if dev is None or up.peer not in topo.datacenters or up.peer in seen:
            continue
        seen.add(up.peer)
        if up.downlink_of:
            lower, _, name = up.downlink_of.partition("/")
            out.append(Neighbour(up.peer, dev, name, lower))
        else:
            out.append(Neighbour(up.peer, dev, up.name, dc.name))
    return out


def reachable(topo: Topology, a: str, b: str) -> list[str] | None:
    """The centers a packet crosses from a to b over the uplinks (a and b included),
    fewest hops first; None when the business private network does not join them."""
    ends: dict[str, set[str]] = {}

    def near(center: str) -> set[str]:
        if center not in ends:
            ends[center] = {n.center for n in neighbours(topo, topo.datacenters[center])}
        return ends[center]

    prev: dict[str, str | None] = {a: None}
    todo = [a]
    while todo:
        here = todo.pop(0)
        if here == b:
            path = [b]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for nb in sorted(near(here)):
            # An uplink carries traffic when both centers hold an end of it.
            if nb not in prev and here in near(nb):
                prev[nb] = here
                todo.append(nb)
    return None


def center_prefixes(dc: DataCenter) -> list[str]:
    """What a far center offers over the private network: its zones' segments (its own
    private-network access segment and municipal sites stay its own business)."""
    return [s.subnet for z in dc.zones if z.kind is not ZoneKind.private_network
            for s in z.segments]


def offsite_copies(topo: Topology) -> list[Any]:
    """The tree's off-site backups (pesdc.crosscenter.offsite_backups), derived once per
    tree: provisioning, render (who may log in to pull) and verify share them."""
    from pesdc.crosscenter import offsite_backups  # it builds on this module

    cached = topo.__dict__.get("_offsite_copies")
    if cached is None:
        cached = topo.__dict__["_offsite_copies"] = offsite_backups(topo)
    return cached


def offsite_replicas(topo: Topology) -> list[Any]:
    """The tree's off-site streaming standbys (pesdc.crosscenter.offsite_standbys),
    derived once per tree: provisioning (both ends), verify and audit share them."""
    from pesdc.crosscenter import offsite_standbys  # it builds on this module

    cached = topo.__dict__.get("_offsite_replicas")
    if cached is None:
        cached = topo.__dict__["_offsite_replicas"] = offsite_standbys(topo)
    return cached
