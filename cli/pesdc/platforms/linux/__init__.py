"""Linux gear, what the lab runs: nftables firewalls and gatekeepers, FRR routers
(driven through vtysh, which speaks IOS-like CLI to netmiko), and plain hosts for the
switches. One platform, three kinds, chosen by the device's role."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pesdc.platforms.dialect import FILTERS
from pesdc.platforms.linux import nftables
from pesdc.platforms.linux.dialect import NftablesDialect
from pesdc.platforms.linux.frr import FRR, FrrDriver
from pesdc.platforms.linux.nftables import NftDriver
from pesdc.platforms.linux.policy import READER
from pesdc.platforms.spec import Feature, Kind, PlatformSpec

if TYPE_CHECKING:
    from pesdc.model.schema import Device

NFTABLES = Kind("linux_nftables", "linux", "linux", None, "ssh",
                ("nftables.conf", "interfaces", "keepalived.conf"),
                frozenset({Feature.interfaces, Feature.static_routes, Feature.vrrp,
                           Feature.zone_policy, Feature.one_way_policy,
                           Feature.mgmt_hardening}),
                config_file="nftables.conf", diff=nftables.remediation, reader=READER)
FRR_ROUTER = Kind("linux_frr", "linux", "cisco_ios", None, "ssh", ("frr.conf", "interfaces"),
                  frozenset({Feature.interfaces, Feature.static_routes, Feature.ospf,
                             Feature.mgmt_hardening}),
                  config_file="frr.conf", diff=FRR.remediation)
HOST = Kind("linux_host", "linux", "linux", None, "ssh", ("interfaces",),
            frozenset({Feature.interfaces, Feature.static_routes, Feature.mgmt_hardening}))


def by_role(device: Device) -> str:
    if device.kind.value in FILTERS:
        return NFTABLES.name
    if device.kind.value == "router":
        return FRR_ROUTER.name
    return HOST.name


PLATFORM = PlatformSpec(
    "linux", Path(__file__).parent,
    kinds=(NFTABLES, FRR_ROUTER, HOST),
    drivers={"linux_nftables": NftDriver, "linux_frr": FrrDriver},
    dialect=NftablesDialect(),
    choose=by_role,
)
