"""Huawei VRP5 campus switches (S5700/S6700/S6730): line-by-line configuration.

This folder also holds what the four VRP families (this one, huawei_ce, huawei_ne,
huawei_ar) share: the base template (base.cfg.j2 and its VRP8 includes), the context
hook (context.py), the diffs and drivers (driver.py), the audit dialect (dialect.py),
the PLATFORM declaration each family folder makes with its own choices (family.py).
"""

from __future__ import annotations

from pesdc.platforms.huawei_vrp.context import VTY_CAMPUS, hook
from pesdc.platforms.huawei_vrp.dialect import VrpDialect
from pesdc.platforms.huawei_vrp.driver import VRP5, HuaweiVrp5Driver
from pesdc.platforms.huawei_vrp.family import vrp_family

PLATFORM = vrp_family(__file__, netmiko_type="huawei", syntax=VRP5, driver=HuaweiVrp5Driver,
                      dialect=VrpDialect(),
                      context=hook(preempt="preempt-mode", vty=VTY_CAMPUS))
