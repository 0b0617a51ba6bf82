"""Huawei VRP (switches, netmiko `huawei`) and USG firewalls; VRPv8 two-stage commit.

`display current-configuration`; `system-view`; the remediation with `quit` closing
each section; `save` answered `Y`. On VRPv8 (CloudEngine, netmiko `huawei_vrpv8`) the
lines go to the candidate database and `commit trial SECONDS` applies them with a
timer: unless `commit` confirms in time, the device rolls itself back (`abort trial`
does it at once).
"""

from __future__ import annotations

from hier_config import Platform as HierPlatform

from pesdc.platforms.driver import Driver, DriverError
from pesdc.platforms.remediation import CliSyntax, noise_dropped

VRP_NOISE = ("!Software Version", "!Last configuration", "!Time of last")
# VRP and the USG firewalls that run it: `quit` closes a section, `undo` negates.
VRP = CliSyntax(HierPlatform.HUAWEI_VRP, "quit", "undo", noise_dropped(VRP_NOISE))


class HuaweiDriver(Driver):
    name = "huawei_vrp"
    show_running = "display current-configuration"
    syntax = VRP

    def leave_config(self) -> None:
        self.conn.exit_config_mode()  # `return`

    def save(self) -> str:
        return self.save_said_successfully(cmd="save", confirm=True, confirm_response="Y")


class HuaweiVrpv8Driver(HuaweiDriver):
    name = "huawei_vrpv8"
    supports_commit_confirm = True

    def leave_config(self) -> None:
        """Stay in system-view: the candidate is committed by commit_confirm."""

    def _system(self, cmd: str) -> str:
        if not self.conn.check_config_mode():
            self.conn.config_mode()
        try:
            out = str(self.conn.send_command(cmd, expect_string=r"\]", read_timeout=120))
        except Exception as exc:
            raise DriverError(f"`{cmd}` failed: {self.redact(str(exc) or repr(exc))}") \
                from None
        if "Error" in out or "Failed" in out:
            raise DriverError(f"`{cmd}` failed: {self.redact(out.strip())}")
        return out

    def commit_confirm(self, seconds: int) -> str:
        return self.redact(self._system(f"commit trial {max(60, int(seconds))}"))

    def confirm(self) -> str:
        out = self._system("commit")
        self.conn.exit_config_mode()
        return self.redact(out)

    def cancel_commit(self) -> str:
        out = self._system("abort trial")
        self.conn.exit_config_mode()
        return self.redact(out)

    def rollback(self, backup: str) -> list[str]:
        lines = super().rollback(backup)
        if lines:
            self._system("commit")
            self.conn.exit_config_mode()
        return lines
