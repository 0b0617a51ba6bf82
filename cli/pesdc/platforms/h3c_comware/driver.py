"""H3C Comware (netmiko `hp_comware`): `display current-configuration`, `system-view`,
the remediation with `quit`, `save force`."""

from __future__ import annotations

from pesdc.platforms.driver import Driver, DriverError
from pesdc.platforms.h3c_comware.syntax import COMWARE


class ComwareDriver(Driver):
    name = "h3c_comware"
    show_running = "display current-configuration"
    syntax = COMWARE

    def leave_config(self) -> None:
        self.conn.exit_config_mode()  # `return`

    def save(self) -> str:
        try:
            out = str(self.conn.save_config(cmd="save force"))
        except Exception as exc:
            raise DriverError(f"save failed: {self.redact(str(exc) or repr(exc))}") from None
        if "successfully" not in out.lower():
            raise DriverError(f"save failed: {self.redact(out.strip())}")
        return self.redact(out)
