"""Cisco IOS-XE: Catalyst 9000/3650/3850 switches, ISR 4000 and ASR 1000 routers (a
zone-based firewall where they filter). The same configuration model as classic IOS
(cisco_ios: template base, context, audit dialect, policy readback); what differs is
here: no IOS 15 release line, VRRPv3, netmiko's `cisco_xe`."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.cisco_ios.context import add_context
from pesdc.platforms.cisco_iosxe.dialect import IosXeDialect
from pesdc.platforms.cisco_iosxe.driver import IOSXE, IosXeDriver
from pesdc.platforms.cisco_iosxe.policy import READER
from pesdc.platforms.spec import SWITCH_FEATURES, Feature, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "cisco_iosxe", Path(__file__).parent,
    kinds=(Kind("cisco_iosxe", "cisco_iosxe", "cisco_xe", "cisco.ios.ios",
                "ansible.netcommon.network_cli", ("device.cfg",),
                SWITCH_FEATURES | {Feature.zone_policy}, config_file="device.cfg",
                diff=IOSXE.remediation, reader=READER, context=add_context),),
    drivers={"cisco_iosxe": IosXeDriver},
    dialect=IosXeDialect(),
)
