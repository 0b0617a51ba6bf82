"""H3C SecPath firewalls (F1000/F5000/M9000, Comware 7): Comware's CLI and push driver
(h3c_comware), a zone security policy over object groups with Local-zone rules for the
device's own management."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware.syntax import COMWARE
from pesdc.platforms.h3c_secpath.context import secpath
from pesdc.platforms.h3c_secpath.dialect import SecPathDialect
from pesdc.platforms.h3c_secpath.driver import SecPathDriver
from pesdc.platforms.h3c_secpath.policy import READER
from pesdc.platforms.spec import ALL_FEATURES, Feature, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "h3c_secpath", Path(__file__).parent,
    kinds=(Kind("h3c_secpath", "h3c_secpath", "hp_comware", "hpe.comware.comware",
                "ansible.netcommon.network_cli", ("device.cfg",),
                ALL_FEATURES - {Feature.vlans}, config_file="device.cfg",
                diff=COMWARE.remediation, reader=READER, context=secpath),),
    drivers={"h3c_secpath": SecPathDriver},
    dialect=SecPathDialect(),
)
