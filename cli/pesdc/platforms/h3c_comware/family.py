"""One Comware 7 family's PlatformSpec: every Comware family renders `device.cfg`, pushes
it with netmiko's `hp_comware`, is managed by Ansible's hpe.comware collection and
diffs with COMWARE; what differs is what it expresses, its driver key and dialect, its
policy reader and its context hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pesdc.platforms.dialect import Dialect
from pesdc.platforms.h3c_comware.syntax import COMWARE
from pesdc.platforms.spec import Feature, Kind, PlatformSpec


def comware_family(name: str, folder: Path, supports: frozenset[Feature],
                   driver: type[Any], dialect: Dialect, **kind: Any) -> PlatformSpec:
    """The family folder ``name``: one kind of the same name, its driver under it."""
    return PlatformSpec(
        name, folder,
        kinds=(Kind(name, name, "hp_comware", "hpe.comware.comware",
                    "ansible.netcommon.network_cli", ("device.cfg",), supports,
                    config_file="device.cfg", diff=COMWARE.remediation, **kind),),
        drivers={name: driver},
        dialect=dialect,
    )
