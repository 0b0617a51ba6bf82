"""Cisco IOS: switches, and routers that filter with a zone-based firewall."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.cisco_ios.dialect import IosDialect
from pesdc.platforms.cisco_ios.driver import IOS, IosDriver
from pesdc.platforms.cisco_ios.policy import READER
from pesdc.platforms.spec import SWITCH_FEATURES, Feature, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "cisco_ios", Path(__file__).parent,
    kinds=(Kind("cisco_ios", "cisco_ios", "cisco_ios", "cisco.ios.ios",
                "ansible.netcommon.network_cli", ("device.cfg",),
                SWITCH_FEATURES | {Feature.zone_policy}, config_file="device.cfg",
                diff=IOS.remediation, reader=READER),),
    drivers={"cisco_ios": IosDriver},
    dialect=IosDialect(),
)
