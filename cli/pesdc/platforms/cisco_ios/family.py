"""The PLATFORM of a Cisco family folder (classic IOS, IOS-XE): one kind named as the
folder, switch features plus the zone-based firewall, the shared context hook, pushed
by its driver under that name, diffed by its syntax, read by its dialect and reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pesdc.platforms.cisco_ios.context import add_context
from pesdc.platforms.dialect import Dialect
from pesdc.platforms.remediation import CliSyntax
from pesdc.platforms.spec import SWITCH_FEATURES, Feature, Kind, PlatformSpec
from pesdc.render.readback import Reader


def ios_family(init_file: str, *, netmiko_type: str, syntax: CliSyntax,
               driver: type[Any], dialect: Dialect, reader: Reader) -> PlatformSpec:
    folder = Path(init_file).parent
    name = folder.name
    kind = Kind(name, name, netmiko_type, "cisco.ios.ios", "ansible.netcommon.network_cli",
                ("device.cfg",), SWITCH_FEATURES | {Feature.zone_policy},
                config_file="device.cfg", diff=syntax.remediation, reader=reader,
                context=add_context)
    return PlatformSpec(name, folder, kinds=(kind,), drivers={name: driver},
                        dialect=dialect)
