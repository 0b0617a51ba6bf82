"""Huawei CloudEngine switches (CE6800/CE12800), VRP8: two-stage commit (netmiko
`huawei_vrpv8`, `commit trial` then `commit`). Template, hook, driver and dialect are
the shared VRP ones (huawei_vrp/) with CloudEngine's choices."""

from __future__ import annotations

from pesdc.platforms.huawei_ce.dialect import CeDialect
from pesdc.platforms.huawei_vrp.context import hook
from pesdc.platforms.huawei_vrp.driver import VRP8, HuaweiVrpv8Driver
from pesdc.platforms.huawei_vrp.family import vrp_family

PLATFORM = vrp_family(__file__, netmiko_type="huawei_vrpv8", syntax=VRP8,
                      driver=HuaweiVrpv8Driver, dialect=CeDialect(),
                      context=hook(preempt="preempt", write="read-write"))
