"""Huawei NetEngine routers (NE40E/NE8000), VRP8: two-stage commit (netmiko
`huawei_vrpv8`), segments as dot1q sub-interfaces. Template, hook, driver and dialect
are the shared VRP ones (huawei_vrp/) with NetEngine's choices."""

from __future__ import annotations

from pesdc.platforms.huawei_ne.dialect import NeDialect
from pesdc.platforms.huawei_vrp.context import hook
from pesdc.platforms.huawei_vrp.driver import VRP8, HuaweiVrpv8Driver
from pesdc.platforms.huawei_vrp.family import vrp_family

PLATFORM = vrp_family(__file__, netmiko_type="huawei_vrpv8", syntax=VRP8,
                      driver=HuaweiVrpv8Driver, dialect=NeDialect(),
                      context=hook(preempt="preempt-mode", vlan_objects=False,
                                   subinterfaces=True, write="read write execute"))
