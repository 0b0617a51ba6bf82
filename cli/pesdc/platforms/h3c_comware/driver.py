"""H3C Comware (netmiko `hp_comware`): `display current-configuration`, `system-view`,
the remediation with `quit`, `save force`."""

from __future__ import annotations

from hier_config import Platform as HierPlatform

from pesdc.netpush.drivers.base import Driver, DriverError, strip_comments
from pesdc.render.output import comware_normalise


class ComwareDriver(Driver):
    name = "h3c_comware"
    show_running = "display current-configuration"
    hier_platform = HierPlatform.HP_COMWARE5
    exit_cmd = "quit"
    negation = "undo"

    def normalise(self, text: str) -> str:
        lines = [ln for ln in comware_normalise(text).splitlines()
                 if not ln.startswith("version ")]  # the software release, not config
        return "\n".join(strip_comments(lines)) + "\n"

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
