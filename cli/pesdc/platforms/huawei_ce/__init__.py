"""Huawei CloudEngine switches (CE6800/CE12800), VRP8: two-stage commit (netmiko
`huawei_vrpv8`, `commit trial` then `commit`). Template, hook, driver and dialect are
the shared VRP ones (huawei_vrp/) with CloudEngine's choices."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.huawei_ce.dialect import CeDialect
from pesdc.platforms.huawei_vrp.context import hook
from pesdc.platforms.huawei_vrp.driver import VRP8, HuaweiVrpv8Driver
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "huawei_ce", Path(__file__).parent,
    kinds=(Kind("huawei_ce", "huawei_ce", "huawei_vrpv8", "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=VRP8.remediation,
                context=hook(preempt="preempt", write="read-write")),),
    drivers={"huawei_ce": HuaweiVrpv8Driver},
    dialect=CeDialect(),
)
