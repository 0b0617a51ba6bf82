"""H3C MSR routers (Comware 7): Comware's CLI, push driver and dialect (h3c_comware);
routed interfaces, OSPF, static routes, management hardening; no zone policy."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware import context
from pesdc.platforms.h3c_comware.dialect import ComwareDialect
from pesdc.platforms.h3c_comware.family import comware_family
from pesdc.platforms.h3c_msr.driver import MsrDriver
from pesdc.platforms.spec import Feature

ROUTER_FEATURES = frozenset({Feature.interfaces, Feature.static_routes, Feature.ospf,
                             Feature.vrrp, Feature.mgmt_hardening})

PLATFORM = comware_family("h3c_msr", Path(__file__).parent, ROUTER_FEATURES, MsrDriver,
                          ComwareDialect(), context=context.router)
