"""The PLATFORM of a VRP family folder: one kind named as the folder, pushed by its
driver under that name, diffed by its syntax, its context hook and audit dialect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pesdc.platforms.dialect import Dialect
from pesdc.platforms.remediation import CliSyntax
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec


def vrp_family(init_file: str, *, netmiko_type: str, syntax: CliSyntax,
               driver: type[Any], dialect: Dialect,
               context: Callable[[dict[str, Any]], None]) -> PlatformSpec:
    folder = Path(init_file).parent
    name = folder.name
    kind = Kind(name, name, netmiko_type, "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=syntax.remediation, context=context)
    return PlatformSpec(name, folder, kinds=(kind,), drivers={name: driver},
                        dialect=dialect)
