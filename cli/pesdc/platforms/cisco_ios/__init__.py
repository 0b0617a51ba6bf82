"""Cisco classic IOS 15: ISR G2 routers (zone-based firewall where they filter) and
Catalyst 2960/3560/3750 switches. IOS-XE is its own family (cisco_iosxe), sharing
this folder's template base, context, dialect and policy readback."""

from __future__ import annotations

from pesdc.platforms.cisco_ios.dialect import IosDialect
from pesdc.platforms.cisco_ios.driver import IOS, IosConfirmedDriver
from pesdc.platforms.cisco_ios.family import ios_family
from pesdc.platforms.cisco_ios.policy import READER

PLATFORM = ios_family(__file__, netmiko_type="cisco_ios", syntax=IOS, driver=IosConfirmedDriver,
                      dialect=IosDialect(), reader=READER)
