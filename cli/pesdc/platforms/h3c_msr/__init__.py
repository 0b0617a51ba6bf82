"""H3C MSR routers (Comware 7): Comware's CLI, push driver and dialect (h3c_comware);
routed interfaces, OSPF, static routes, management hardening; no zone policy."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware import context
from pesdc.platforms.h3c_comware.dialect import ComwareDialect
from pesdc.platforms.h3c_comware.syntax import COMWARE
from pesdc.platforms.h3c_msr.driver import MsrDriver
from pesdc.platforms.spec import Feature, Kind, PlatformSpec

ROUTER_FEATURES = frozenset({Feature.interfaces, Feature.static_routes, Feature.ospf,
                             Feature.vrrp, Feature.mgmt_hardening})

PLATFORM = PlatformSpec(
    "h3c_msr", Path(__file__).parent,
    kinds=(Kind("h3c_msr", "h3c_msr", "hp_comware", "hpe.comware.comware",
                "ansible.netcommon.network_cli", ("device.cfg",), ROUTER_FEATURES,
                config_file="device.cfg", diff=COMWARE.remediation,
                context=context.router),),
    drivers={"h3c_msr": MsrDriver},
    dialect=ComwareDialect(),
)
