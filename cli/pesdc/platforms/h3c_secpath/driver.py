"""SecPath firewalls push as every Comware 7 device (h3c_comware/driver.py): the same
CLI, save and confirmed commit, under this family's driver key."""

from __future__ import annotations

from pesdc.platforms.h3c_comware.driver import ComwareDriver


class SecPathDriver(ComwareDriver):
    name = "h3c_secpath"
