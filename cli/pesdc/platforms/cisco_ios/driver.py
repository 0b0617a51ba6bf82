"""Cisco IOS: `show running-config`, configuration mode, `write memory`."""

from __future__ import annotations

from hier_config import Platform as HierPlatform

from pesdc.platforms.driver import Driver, DriverError
from pesdc.platforms.remediation import CliSyntax, noise_dropped

IOS_NOISE = ("Building configuration", "Current configuration")
# Only `!` starts a comment on IOS: a lone `#` closes a banner the template opened with it.
IOS = CliSyntax(HierPlatform.CISCO_IOS, "exit", "no",
                noise_dropped(IOS_NOISE, ("exit",), comments=("!",)))


class IosDriver(Driver):
    name = "cisco_ios"
    show_running = "show running-config"
    syntax = IOS

    def after_open(self) -> None:
        if not self.conn.check_enable_mode():
            self.conn.enable()

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
