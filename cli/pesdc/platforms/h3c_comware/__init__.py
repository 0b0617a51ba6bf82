"""H3C Comware 7 switches (S5xxx/S6xxx). The folder also holds what the three Comware
families share: the CLI syntax (syntax.py), the push driver (driver.py), the audit
dialect (dialect.py), the common template (comware.j2, secadmin.j2) and context hooks
(context.py); h3c_secpath and h3c_msr build on them."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware import context
from pesdc.platforms.h3c_comware.dialect import ComwareDialect
from pesdc.platforms.h3c_comware.driver import ComwareDriver
from pesdc.platforms.h3c_comware.syntax import COMWARE
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "h3c_comware", Path(__file__).parent,
    kinds=(Kind("h3c_comware", "h3c_comware", "hp_comware", "hpe.comware.comware",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=COMWARE.remediation,
                context=context.switch),),
    drivers={"h3c_comware": ComwareDriver},
    dialect=ComwareDialect(),
)
