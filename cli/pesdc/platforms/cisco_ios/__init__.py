"""Cisco classic IOS 15: ISR G2 routers (zone-based firewall where they filter) and
Catalyst 2960/3560/3750 switches. IOS-XE is its own family (cisco_iosxe), sharing
this folder's template base, context, dialect and policy readback."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.cisco_ios.context import add_context
from pesdc.platforms.cisco_ios.dialect import IosDialect
from pesdc.platforms.cisco_ios.driver import IOS, IosConfirmedDriver
from pesdc.platforms.cisco_ios.policy import READER
from pesdc.platforms.spec import SWITCH_FEATURES, Feature, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "cisco_ios", Path(__file__).parent,
    kinds=(Kind("cisco_ios", "cisco_ios", "cisco_ios", "cisco.ios.ios",
                "ansible.netcommon.network_cli", ("device.cfg",),
                SWITCH_FEATURES | {Feature.zone_policy}, config_file="device.cfg",
                diff=IOS.remediation, reader=READER, context=add_context),),
    drivers={"cisco_ios": IosConfirmedDriver},
    dialect=IosDialect(),
)
