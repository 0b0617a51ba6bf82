"""Cisco IOS-XE: Catalyst 9000/3650/3850 switches, ISR 4000 and ASR 1000 routers (a
zone-based firewall where they filter). The same configuration model as classic IOS
(cisco_ios: template base, context, audit dialect, policy readback); what differs is
here: no IOS 15 release line, VRRPv3, netmiko's `cisco_xe`."""

from __future__ import annotations

from pesdc.platforms.cisco_ios.family import ios_family
from pesdc.platforms.cisco_iosxe.dialect import IosXeDialect
from pesdc.platforms.cisco_iosxe.driver import IOSXE, IosXeDriver
from pesdc.platforms.cisco_iosxe.policy import READER

PLATFORM = ios_family(__file__, netmiko_type="cisco_xe", syntax=IOSXE, driver=IosXeDriver,
                      dialect=IosXeDialect(), reader=READER)
