"""Huawei AR routers (AR6300, AR1200...): the VRP5 command line, line by line (no
native trial commit: a failed push is undone by pushing the backup back). Template,
hook, driver and dialect are the shared VRP ones (huawei_vrp/)."""

from __future__ import annotations

from pesdc.platforms.huawei_vrp.context import hook
from pesdc.platforms.huawei_vrp.dialect import VrpDialect
from pesdc.platforms.huawei_vrp.driver import VRP5, HuaweiVrp5Driver
from pesdc.platforms.huawei_vrp.family import vrp_family

PLATFORM = vrp_family(__file__, netmiko_type="huawei", syntax=VRP5, driver=HuaweiVrp5Driver,
                      dialect=VrpDialect(),
                      context=hook(preempt="preempt-mode", vlan_objects=False))
