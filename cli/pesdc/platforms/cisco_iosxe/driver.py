"""Cisco IOS-XE: the IOS driver (same CLI, same Configuration Rollback Confirmed
Change with `configure terminal revert timer`), under netmiko's `cisco_xe`."""

from __future__ import annotations

from pesdc.platforms.cisco_ios.driver import IOS, IosConfirmedDriver

IOSXE = IOS  # hier_config has one Cisco IOS platform for both; the CLI is the same


class IosXeDriver(IosConfirmedDriver):
    name = "cisco_iosxe"
