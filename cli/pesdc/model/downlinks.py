"""The upper end of an uplink, normalised once at load.

Only the lower center declares a city_province (or province_ministry) uplink; the upper
center names its end with an interface ``downlink: lower/uplink``. After loading, each
such interface that resolves gets a mirror of that uplink in its own center (kind,
subnet, bandwidth and latency of the lower one, the addresses swapped, the interface's
device terminating it) and the interface points at it as an ``uplink`` would. Render,
OSPF, the lab, verify and audit then see an upper end like any other uplink; the mirror
says where it came from (``Uplink.downlink_of``). What does not resolve is left as it
is and reported by rule NET005 (pesdc.rules.structure).
"""

from __future__ import annotations

from pesdc.model.schema import DataCenter, Interface, Uplink
from pesdc.model.tree import Topology


def target(topo: Topology, ref: str) -> tuple[DataCenter, Uplink] | None:
    """The lower center and its uplink a ``downlink`` names, when both exist."""
    center, _, name = ref.partition("/")
    lower = topo.datacenters.get(center)
    if lower is None:
        return None
    up = next((u for u in lower.uplinks if u.name == name), None)
    return (lower, up) if up is not None else None


def _mirror_name(upper: DataCenter, lower: str, up: Uplink) -> str:
    taken = {u.name for u in upper.uplinks}
    for name in (f"down-{lower}", f"down-{lower}-{up.name}"):
        if name not in taken:
            return name
    n = 2
    while f"down-{lower}-{n}" in taken:
        n += 1
    return f"down-{lower}-{n}"


def _resolves(upper: DataCenter, itf: Interface, lower: DataCenter, up: Uplink) -> bool:
    return (lower is not upper and up.peer == upper.name and up.subnet is not None
            and up.local_address is not None and up.peer_address is not None
            and itf.address in (None, up.peer_address))


def derive(topo: Topology) -> None:
    """Give every resolving downlink interface its mirror uplink (see the module)."""
    for upper in topo.datacenters.values():
        claimed: set[str] = set()
        for dev in upper.devices:
            for itf in dev.interfaces:
                if itf.downlink is None or itf.downlink in claimed:
                    continue
                found = target(topo, itf.downlink)
                if found is None or not _resolves(upper, itf, *found):
                    continue
                claimed.add(itf.downlink)
                lower, up = found
                mirror = Uplink(name=_mirror_name(upper, lower.name, up), kind=up.kind,
                                peer=lower.name, bandwidth_mbps=up.bandwidth_mbps,
                                latency_ms=up.latency_ms, subnet=up.subnet,
                                local_address=up.peer_address,
                                peer_address=up.local_address, encryption=up.encryption,
                                device=dev.name)
                mirror._downlink_of = itf.downlink
                mirror._src = (itf._src[0], (*itf._src[1], "downlink"))
                upper.uplinks.append(mirror)
                itf.uplink = mirror.name
                itf.address = up.peer_address
    topo._index.clear()  # indexes built before this would miss the mirrors
