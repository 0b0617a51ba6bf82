"""Huawei VRP switches (S series; CloudEngine runs VRPv8, whose two-stage commit the
push driver uses when the model is a CE)."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.huawei_vrp.dialect import VrpDialect
from pesdc.platforms.huawei_vrp.driver import VRP, HuaweiDriver, HuaweiVrpv8Driver
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "huawei_vrp", Path(__file__).parent,
    kinds=(Kind("huawei_vrp", "huawei_vrp", "huawei", "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=VRP.remediation),),
    drivers={"huawei_vrp": HuaweiDriver, "huawei_vrpv8": HuaweiVrpv8Driver},
    dialect=VrpDialect(),
)
