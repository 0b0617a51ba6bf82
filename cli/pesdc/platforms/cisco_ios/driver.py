"""Cisco IOS and IOS-XE: `show running-config`, configuration mode, `write memory`,
and the Configuration Rollback Confirmed Change where the device has an archive.

Safe commit (Cisco IOS XE 17.x System Management Configuration Guide, "Configuration
Rollback Confirmed Change"; NAPALM's ios driver does the same): with `archive` and its
`path` configured (the template writes them), the push enters configuration mode with
`configure terminal revert timer M`: the device archives its running configuration and
reverts to it by itself unless `configure confirm` comes within M minutes;
`configure revert timer M` resets the timer and `configure revert now` reverts at once.
A device without the archive (its first push, an emulator) has nothing native: the
lines are pushed as they are and a rollback pushes the backup back, line by line.
"""

from __future__ import annotations

import math
import re

from hier_config import Platform as HierPlatform

from pesdc.platforms.driver import (
    REVERT_TIMER,
    Connect,
    ConnParams,
    Driver,
    DriverError,
    Redact,
)
from pesdc.platforms.remediation import CliSyntax, noise_dropped

# `version` states the release the device runs: display-only, never configuration.
IOS_NOISE = ("Building configuration", "Current configuration", "version ")
# Only `!` starts a comment on IOS: a lone `#` closes a banner the template opened with it.
IOS = CliSyntax(HierPlatform.CISCO_IOS, "exit", "no",
                noise_dropped(IOS_NOISE, ("exit",), comments=("!",)))

# What `show archive` prints when the archive is set up (the Configuration Fundamentals
# `configure replace` example); anything else (`Archive feature not enabled`, an error,
# an emulator's silence) is a device without one.
_ARCHIVE = re.compile(r"archive configurations saved|next archive file will be named",
                      re.IGNORECASE)
_FAILED = re.compile(r"^\s*%", re.MULTILINE)
# The revert timer's range (minutes), as `configure terminal revert timer` takes it.
REVERT_MINUTES = (1, 120)


class IosDriver(Driver):
    """The IOS CLI as such (FRR's vtysh speaks it too: linux/frr.py): `show
    running-config`, configuration mode, `write mem`."""

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


class IosConfirmedDriver(IosDriver):
    """A Cisco IOS device: the IOS CLI under the Configuration Rollback Confirmed
    Change where the device has its archive (the module's docstring)."""

    commit_model = REVERT_TIMER
    # Minutes the revert timer is armed with when the push enters configuration mode;
    # commit_confirm then sets the engine's own trial length.
    revert_minutes = 5

    def __init__(self, params: ConnParams, connect: Connect | None = None,
                 redact: Redact | None = None, fill: Redact | None = None):
        super().__init__(params, connect, redact, fill)
        self.armed = False  # a revert timer is running on the device

    @property
    def supports_commit_confirm(self) -> bool:  # type: ignore[override]
        """Per device, known after the push: the revert timer armed (archive there)."""
        return self.armed

    # -- the confirmed change ---------------------------------------------------------
    def has_archive(self) -> bool:
        """`show archive`: is the configuration archive (the rollback point) set up?"""
        return _ARCHIVE.search(self.command("show archive")) is not None

    def push(self, lines: list[str], arm: bool = True) -> str:
        """The lines under a revert timer where the device has an archive: the session
        enters configuration mode with `configure terminal revert timer M` (netmiko's
        config_mode, as NAPALM does), and the batches follow in that mode."""
        self.armed = False
        if arm and lines and self.has_archive():
            try:
                self.conn.config_mode(
                    config_command=f"configure terminal revert timer {self.revert_minutes}")
            except Exception as exc:
                raise DriverError("`configure terminal revert timer` failed: "
                                  f"{self.redact(str(exc) or repr(exc))}") from None
            self.armed = True
        return super().push(lines)

    def _exec(self, cmd: str) -> str:
        """A privileged EXEC command of the confirmed change, out of configuration mode
        (a push that stopped half-way leaves the session in it)."""
        if self.conn.check_config_mode():
            self.leave_config()
        out = self.command(cmd, read_timeout=120)
        if _FAILED.search(out):
            raise DriverError(f"`{cmd}` failed: {self.redact(out.strip())}")
        return self.redact(out)

    def commit_confirm(self, seconds: int) -> str:
        """The timer armed by the push, reset to the engine's trial length."""
        if not self.armed:
            raise DriverError("no revert timer is armed on the device (no archive)")
        low, high = REVERT_MINUTES
        minutes = min(high, max(low, math.ceil(seconds / 60)))
        return self._exec(f"configure revert timer {minutes}")

    def confirm(self) -> str:
        out = self._exec("configure confirm")
        self.armed = False
        return out

    def cancel_commit(self) -> str:
        """Back to the archived configuration now (the device does it)."""
        out = self._exec("configure revert now")
        self.armed = False
        return out

    def rollback(self, backup: str) -> list[str]:
        """A timer still running (the push failed before the post-check): the device
        reverts to its archive now. Otherwise the backup's lines, pushed plainly (a
        revert timer for a rollback would revert the rollback)."""
        if self.armed:
            self.cancel_commit()
            return []
        lines = self.differs(self.get_running(), backup)
        if lines:
            self.push(lines, arm=False)
        return lines
