"""What a new center copies from the tree: its zone and segment names, how its uplinks
and municipal links are set, the port names of its gear's platforms.

The model is the new center's siblings (the parent's other full centers of its tier),
else any full center of that tier in the tree, else the bundled example's names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pesdc.model.schema import DataCenter, DeviceKind, SiteKind, Tier, UplinkKind, ZoneKind
from pesdc.model.tree import CENTER, Topology

# Template key -> zone kind, and the example tree's names for both.
ZONE_KEYS = {"internet": ZoneKind.internet, "production": ZoneKind.production,
             "exchange": ZoneKind.exchange, "decision": ZoneKind.decision,
             "mgmt": ZoneKind.security_management, "pn": ZoneKind.private_network}
ZONE_NAMES = {"internet": "internet", "production": "production", "exchange": "exchange",
              "decision": "decision", "mgmt": "mgmt", "pn": "private_network"}
# Template key -> (zone key, index of the segment in that zone), and the example's names.
SEGMENT_KEYS = {"dmz": ("internet", 0), "app": ("production", 0), "db": ("production", 1),
                "exch": ("exchange", 0), "dec": ("decision", 0), "mgmt": ("mgmt", 0),
                "transit": ("pn", 0)}
SEGMENT_NAMES = {"dmz": "dmz", "app": "prod-app", "db": "prod-db", "exch": "exch",
                 "dec": "dec", "mgmt": "mgmt", "transit": "pn-transit"}

# Port names per platform (the vendor's conventions; linux for anything else).
PortFn = Callable[[int], str]
PORTS: dict[str, dict[str, PortFn]] = {
    "router": {"huawei_vrp": "GigabitEthernet0/0/{}".format,
               "h3c_comware": "GigabitEthernet0/{}".format,
               "cisco_ios": "GigabitEthernet0/0/{}".format, "linux": "eth{}".format},
    "fw": {"huawei_usg": "Eth-Trunk1.{}".format, "h3c_comware": "Route-Aggregation1.{}".format,
           "cisco_ios": "Port-channel1.{}".format, "linux": "bond0.{}".format},
    "vlanif": {"huawei_vrp": "Vlanif{}".format, "h3c_comware": "Vlan-interface{}".format,
               "cisco_ios": "Vlan{}".format, "linux": "vlan{}".format},
    "trunk": {"huawei_vrp": "100GE1/0/{}".format,
              "h3c_comware": "Ten-GigabitEthernet1/0/{}".format,
              "cisco_ios": "TenGigabitEthernet1/1/{}".format, "linux": "eth{}".format},
    "agg": {"huawei_vrp": "XGigabitEthernet0/0/{}".format,
            "h3c_comware": lambda n: f"Ten-GigabitEthernet1/0/{48 + n}",
            "cisco_ios": "TenGigabitEthernet1/1/{}".format, "linux": "eth{}".format},
}
# The device of the template whose platform names each kind of port.
PORT_DEVICE = {"router": "rt-1", "fw": "fw-1", "vlanif": "core-1", "trunk": "core-1",
               "agg": "agg-1"}


@dataclass
class LinkHabit:
    """How the model writes a center link of one site kind: its group, or its values."""

    group: str | None = None
    bandwidth_mbps: float = 1000.0
    latency_ms: float = 1.0
    encryption: str = "sm_vpn"

    @property
    def attrs(self) -> str:
        if self.group:
            return f"group: {self.group}"
        return (f"bandwidth_mbps: {self.bandwidth_mbps:g}, latency_ms: "
                f"{self.latency_ms:g}, encryption: {self.encryption}")


@dataclass
class Conventions:
    zone: dict[str, str] = field(default_factory=lambda: dict(ZONE_NAMES))
    seg: dict[str, str] = field(default_factory=lambda: dict(SEGMENT_NAMES))
    up_bandwidth: float = 1000.0
    up_latency: float = 4.0
    up_encryption: str = "sm_vpn"
    district_link: LinkHabit = field(default_factory=LinkHabit)
    horizontal_link: LinkHabit = field(
        default_factory=lambda: LinkHabit(None, 100.0, 2.0, "sm_vpn"))
    platforms: dict[str, str] = field(default_factory=dict)  # template device -> platform
    router_group: str | None = None  # the defaults group every model's routers share

    def port(self) -> dict[str, PortFn]:
        """The port namers of the template (``port.router(1)``...), by platform."""
        out: dict[str, PortFn] = {}
        for key, device in PORT_DEVICE.items():
            table = PORTS[key]
            out[key] = table.get(self.platforms.get(device, "linux"), table["linux"])
        return out


def full_centers(topo: Topology, tier: Tier, parent: str | None) -> list[DataCenter]:
    """The model centers: full centers of ``tier`` under ``parent``, else anywhere."""
    every = [dc for dc in topo.datacenters.values() if dc.tier is tier and not dc.hosted]
    siblings = [dc for dc in every if dc.parent == parent]
    return sorted(siblings or every, key=lambda dc: dc.name)


def learn(topo: Topology, tier: Tier, parent: str | None) -> Conventions:
    conv = Conventions()
    models = full_centers(topo, tier, parent)
    _names(conv, models)
    ups = [u for dc in models for u in dc.uplinks
           if u.kind in (UplinkKind.city_province, UplinkKind.province_ministry)
           and not u.downlink_of]
    if ups:
        conv.up_bandwidth = Counter(u.bandwidth_mbps for u in ups).most_common(1)[0][0]
        conv.up_latency = Counter(u.latency_ms for u in ups).most_common(1)[0][0]
        conv.up_encryption = Counter(u.encryption.value for u in ups).most_common(1)[0][0]
    groups = {d.group for dc in models for d in dc.devices if d.kind is DeviceKind.router}
    if len(groups) == 1:
        conv.router_group = groups.pop()
    conv.district_link = _link_habit(models, SiteKind.district_agency, conv.district_link)
    conv.horizontal_link = _link_habit(models, SiteKind.social_insurance_agency,
                                       conv.horizontal_link)
    return conv


def _names(conv: Conventions, models: list[DataCenter]) -> None:
    """Zone names by kind and segment names by place, from the first model having them;
    a name clash (two keys, one name) keeps the example's names."""
    zone, seg = dict(ZONE_NAMES), dict(SEGMENT_NAMES)
    for key, kind in ZONE_KEYS.items():
        found = next((z for dc in models for z in dc.zones if z.kind is kind), None)
        if found is None:
            continue
        zone[key] = found.name
        for skey, (zkey, i) in SEGMENT_KEYS.items():
            if zkey == key and i < len(found.segments):
                seg[skey] = found.segments[i].name
    if len(set(zone.values())) == len(zone) and len(set(seg.values())) == len(seg):
        conv.zone, conv.seg = zone, seg


def _link_habit(models: list[DataCenter], kind: SiteKind, default: LinkHabit) -> LinkHabit:
    for dc in models:
        kinds = {s.name: s.kind for s in dc.sites}
        for lk in dc.links:
            if lk.a == CENTER and kinds.get(lk.b) is kind and not lk.redundant_with:
                return LinkHabit(lk.group, lk.bandwidth_mbps, lk.latency_ms,
                                 lk.encryption.value)
    return default
