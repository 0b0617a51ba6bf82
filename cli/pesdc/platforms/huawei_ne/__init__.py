"""Huawei NetEngine routers (NE40E/NE8000), VRP8: two-stage commit (netmiko
`huawei_vrpv8`), segments as dot1q sub-interfaces. Template, hook, driver and dialect
are the shared VRP ones (huawei_vrp/) with NetEngine's choices."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.huawei_ne.dialect import NeDialect
from pesdc.platforms.huawei_vrp.context import hook
from pesdc.platforms.huawei_vrp.driver import VRP8, HuaweiVrpv8Driver
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "huawei_ne", Path(__file__).parent,
    kinds=(Kind("huawei_ne", "huawei_ne", "huawei_vrpv8", "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=VRP8.remediation,
                context=hook(preempt="preempt-mode", vlan_objects=False,
                             subinterfaces=True, write="read write execute")),),
    drivers={"huawei_ne": HuaweiVrpv8Driver},
    dialect=NeDialect(),
)
