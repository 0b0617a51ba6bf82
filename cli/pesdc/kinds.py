"""The kind registry: one place that says, per device platform and role, how to talk
to it and how to render it (as containerlab's kinds do).

Nothing else in pesdc branches on a platform name: render, push and verify look the
kind up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pesdc.model.schema import Device, DeviceKind, Platform


class Feature(StrEnum):
    """What a device's intended configuration may need a platform to express."""

    interfaces = "interfaces"
    vlans = "vlans"
    static_routes = "static_routes"
    ospf = "ospf"
    vrrp = "vrrp"
    zone_policy = "zone_policy"  # zones + explicit allow rules, default deny
    one_way_policy = "one_way_policy"  # gatekeeper: one direction only
    mgmt_hardening = "mgmt_hardening"  # SSHv2 only, 3 admin roles, lockout, syslog, ...


@dataclass(frozen=True)
class Kind:
    name: str
    platform: Platform
    netmiko_type: str
    ansible_network_os: str | None  # None: a Linux host managed by plain SSH
    ansible_connection: str
    template_dir: str  # under templates/
    config_files: tuple[str, ...]  # file names rendered per device, from template_dir
    supports: frozenset[Feature]
    # Negation keyword and hier_config platform for remediation (None: replace whole).
    hier_platform: str | None = None


_ALL = frozenset(Feature)
_VENDOR_SWITCH = frozenset({Feature.interfaces, Feature.vlans, Feature.static_routes,
                            Feature.ospf, Feature.vrrp, Feature.mgmt_hardening})

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("huawei_vrp", Platform.huawei_vrp, "huawei", "community.network.ce",
             "ansible.netcommon.network_cli", "huawei_vrp", ("device.cfg",),
             _VENDOR_SWITCH, "huawei_vrp"),
        Kind("huawei_usg", Platform.huawei_usg, "huawei", "community.network.ce",
             "ansible.netcommon.network_cli", "huawei_usg", ("device.cfg",),
             _ALL - {Feature.vlans}, "huawei_vrp"),
        Kind("h3c_comware", Platform.h3c_comware, "hp_comware", "hpe.comware.comware",
             "ansible.netcommon.network_cli", "h3c_comware", ("device.cfg",),
             _ALL, "hp_comware5"),
        Kind("cisco_ios", Platform.cisco_ios, "cisco_ios", "cisco.ios.ios",
             "ansible.netcommon.network_cli", "cisco_ios", ("device.cfg",),
             _VENDOR_SWITCH | {Feature.zone_policy}, "cisco_ios"),
        # Linux gear is what the lab runs: nftables firewalls and gatekeepers, FRR
        # routers (driven through vtysh, which speaks IOS-like CLI to netmiko).
        Kind("linux_nftables", Platform.linux, "linux", None, "ssh", "linux",
             ("nftables.conf", "interfaces", "keepalived.conf"),
             frozenset({Feature.interfaces, Feature.static_routes, Feature.vrrp,
                        Feature.zone_policy, Feature.one_way_policy,
                        Feature.mgmt_hardening})),
        Kind("linux_frr", Platform.linux, "cisco_ios", None, "ssh", "linux",
             ("frr.conf", "interfaces"),
             frozenset({Feature.interfaces, Feature.static_routes, Feature.ospf,
                        Feature.mgmt_hardening})),
        Kind("linux_host", Platform.linux, "linux", None, "ssh", "linux",
             ("interfaces",),
             frozenset({Feature.interfaces, Feature.static_routes,
                        Feature.mgmt_hardening})),
    )
}

_FIREWALLING = (DeviceKind.firewall, DeviceKind.gatekeeper)


def kind_of(device: Device) -> Kind:
    """The registry entry for a device: its platform, and on Linux its role."""
    if device.platform is Platform.linux:
        if device.kind in _FIREWALLING:
            return KINDS["linux_nftables"]
        if device.kind is DeviceKind.router:
            return KINDS["linux_frr"]
        return KINDS["linux_host"]
    return KINDS[device.platform.value]
