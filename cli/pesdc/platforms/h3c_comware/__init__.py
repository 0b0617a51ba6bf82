"""H3C Comware: switches and SecPath firewalls (a zone security policy over object
groups), one CLI and one push driver."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware.dialect import ComwareDialect
from pesdc.platforms.h3c_comware.driver import ComwareDriver
from pesdc.platforms.h3c_comware.policy import READER
from pesdc.platforms.h3c_comware.syntax import COMWARE
from pesdc.platforms.spec import ALL_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "h3c_comware", Path(__file__).parent,
    kinds=(Kind("h3c_comware", "h3c_comware", "hp_comware", "hpe.comware.comware",
                "ansible.netcommon.network_cli", ("device.cfg",), ALL_FEATURES,
                config_file="device.cfg", diff=COMWARE.remediation, reader=READER),),
    drivers={"h3c_comware": ComwareDriver},
    dialect=ComwareDialect(),
)
