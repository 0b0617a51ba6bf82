"""Cisco IOS: `show running-config`, configuration mode, `write memory`."""

from __future__ import annotations

from hier_config import Platform as HierPlatform

from pesdc.netpush.drivers.base import Driver, DriverError, strip_comments

IOS_NOISE = ("Building configuration", "Current configuration")


class IosDriver(Driver):
    name = "cisco_ios"
    show_running = "show running-config"
    hier_platform = HierPlatform.CISCO_IOS
    exit_cmd = "exit"

    def after_open(self) -> None:
        if not self.conn.check_enable_mode():
            self.conn.enable()

    def normalise(self, text: str) -> str:
        lines = [ln for ln in text.splitlines()
                 if not ln.startswith(IOS_NOISE) and ln.strip() != "exit"]
        return "\n".join(strip_comments(lines)) + "\n"

    def leave_config(self) -> None:
        # `exit` from global configuration works on IOS and on emulators without `end`.
        self.conn.exit_config_mode(exit_config="exit")

    def save(self) -> str:
        try:
            out = str(self.conn.save_config(cmd="write mem"))
        except Exception as exc:
            raise DriverError(f"save failed: {self.redact(str(exc) or repr(exc))}") from None
        if "[OK]" not in out and "Error" in out:
            raise DriverError(f"save failed: {self.redact(out.strip())}")
        return self.redact(out)
