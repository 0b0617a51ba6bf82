"""H3C Comware 7 switches (S5xxx/S6xxx). The folder also holds what the three Comware
families share: the CLI syntax (syntax.py), the push driver (driver.py), the audit
dialect (dialect.py), the common template (comware.j2, secadmin.j2), context hooks
(context.py) and the family declaration (family.py); h3c_secpath and h3c_msr build on
them."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware import context
from pesdc.platforms.h3c_comware.dialect import ComwareDialect
from pesdc.platforms.h3c_comware.driver import ComwareDriver
from pesdc.platforms.h3c_comware.family import comware_family
from pesdc.platforms.spec import SWITCH_FEATURES

PLATFORM = comware_family("h3c_comware", Path(__file__).parent, SWITCH_FEATURES,
                          ComwareDriver, ComwareDialect(), context=context.switch)
