"""Huawei AR routers (AR6300, AR1200...): the VRP5 command line, line by line (no
native trial commit: a failed push is undone by pushing the backup back). Template,
hook, driver and dialect are the shared VRP ones (huawei_vrp/)."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.huawei_vrp.context import hook
from pesdc.platforms.huawei_vrp.dialect import VrpDialect
from pesdc.platforms.huawei_vrp.driver import VRP5, HuaweiVrp5Driver
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "huawei_ar", Path(__file__).parent,
    kinds=(Kind("huawei_ar", "huawei_ar", "huawei", "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=VRP5.remediation,
                context=hook(preempt="preempt-mode", vlan_objects=False)),),
    drivers={"huawei_ar": HuaweiVrp5Driver},
    dialect=VrpDialect(),
)
