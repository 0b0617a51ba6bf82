"""MSR routers push as every Comware 7 device (h3c_comware/driver.py), under this
family's driver key. `configuration commit delay` is documented for Comware 7; on MSR
releases it was not confirmed (h3c_msr/commands.yaml, commit_model)."""

from __future__ import annotations

from pesdc.platforms.h3c_comware.driver import ComwareDriver


class MsrDriver(ComwareDriver):
    name = "h3c_msr"
