"""Huawei VRP5 campus switches (S5700/S6700/S6730): line-by-line configuration.

This folder also holds what the four VRP families (this one, huawei_ce, huawei_ne,
huawei_ar) share: the base template (base.cfg.j2 and its VRP8 includes), the context
hook (context.py), the diffs and drivers (driver.py), the audit dialect (dialect.py).
"""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.huawei_vrp.context import VTY_CAMPUS, hook
from pesdc.platforms.huawei_vrp.dialect import VrpDialect
from pesdc.platforms.huawei_vrp.driver import VRP5, HuaweiVrp5Driver
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "huawei_vrp", Path(__file__).parent,
    kinds=(Kind("huawei_vrp", "huawei_vrp", "huawei", "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=VRP5.remediation,
                context=hook(preempt="preempt-mode", vty=VTY_CAMPUS)),),
    drivers={"huawei_vrp": HuaweiVrp5Driver},
    dialect=VrpDialect(),
)
