"""H3C Comware (netmiko `hp_comware`): `display current-configuration`, `system-view`,
the remediation with `quit`, `save force`."""

from __future__ import annotations

from pesdc.platforms.driver import Driver
from pesdc.platforms.h3c_comware.syntax import COMWARE


class ComwareDriver(Driver):
    name = "h3c_comware"
    show_running = "display current-configuration"
    syntax = COMWARE

    def leave_config(self) -> None:
        self.conn.exit_config_mode()  # `return`

    def save(self) -> str:
        return self.save_said_successfully(cmd="save force")
