"""H3C Comware 7 (netmiko `hp_comware`): `display current-configuration`, `system-view`,
the remediation with `quit`, `save force`; the SecPath and MSR families push with it.

Safe commits (Comware 7 Fundamentals configuration guide, "Configuring configuration
commit delay" and "Rolling back configuration"):

- ``commit_confirm(seconds)``: `configuration commit delay MINUTES` in system view. The
  device records a rollback point when the timer starts; settings made afterwards take
  effect at once and are removed when the timer expires unless `configuration commit`
  (``confirm``) runs first. It is one-time: each push starts it again; restarting it
  before it expires changes the delay, not the rollback point.
- ``save_rollback_point()``: `save flash:/pesdc-rollback.cfg`, the running configuration
  in a file of the device itself, which is what `configuration replace file` takes.
- ``cancel_commit()``: `configuration replace file` of that file, then `configuration
  commit` so the timer ends on the restored configuration.
- ``rollback(backup)``: the same replace when this session saved a rollback point,
  else the base driver's push of the lines back to the backup.

Because the commit delay must start *before* the lines are sent, the engine's order
(push, then commit_confirm) does not fit; ``supports_commit_confirm`` stays False and
``confirm_before_push`` tells the engine to call ``save_rollback_point`` and
``commit_confirm`` first (pesdc/netpush/engine.py is not changed here).
"""

from __future__ import annotations

import math
from typing import ClassVar

from pesdc.platforms.driver import Driver, DriverError
from pesdc.platforms.h3c_comware.syntax import COMWARE

ROLLBACK_FILE = "flash:/pesdc-rollback.cfg"
# Lines Comware answers with a [Y/N] question before it acts: assigning security-audit
# to a local user asks to delete the user's other roles (HPE Comware 7 Fundamentals
# configuration guide, "Assigning user roles to local AAA authentication users"). The
# question's text was not read: the answer is sent as the next line.
CONFIRMS = ("authorization-attribute user-role security-audit",)
_CONFIRM = "[Y/N]"
_FAILED = ("Error", "Failed", "failed", "% ")


def with_answers(lines: list[str], confirms: tuple[str, ...] = CONFIRMS) -> list[str]:
    """The lines as typed: each one that asks [Y/N] followed by its answer `Y`."""
    out: list[str] = []
    for line in lines:
        out += [line, " " * (len(line) - len(line.lstrip())) + "Y"] \
            if line.strip() in confirms else [line]
    return out


def _last_line(out: str) -> str:
    lines = out.strip().splitlines()
    return lines[-1] if lines else ""


class ComwareDriver(Driver):
    name = "h3c_comware"
    show_running = "display current-configuration"
    syntax = COMWARE
    confirm_before_push: ClassVar[bool] = True
    rollback_file: ClassVar[str] = ROLLBACK_FILE

    # A rollback point this driver saved on the device (kept across a reconnect: the
    # file stays on the device), so `configuration replace` can use it.
    rollback_point = False

    def leave_config(self) -> None:
        self.conn.exit_config_mode()  # `return`

    def save(self) -> str:
        return self.save_said_successfully(cmd="save force")

    def push(self, lines: list[str]) -> str:
        return super().push(with_answers(lines))

    # -- safe commits ----------------------------------------------------------------
    def _answered(self, cmd: str, answer: str = "Y") -> str:
        """A command whose [Y/N] questions get ``answer``; an error reply fails it."""
        try:
            said = str(self.conn.send_command_timing(cmd, read_timeout=self.read_timeout))
            out = said
            for _ in range(3):  # save asks to confirm, then to overwrite an old file
                if not _last_line(said).rstrip().endswith((_CONFIRM, _CONFIRM + ":")):
                    break
                said = str(self.conn.send_command_timing(answer,
                                                         read_timeout=self.read_timeout))
                out += said
        except Exception as exc:
            raise DriverError(f"`{cmd}` failed: {self.redact(str(exc) or repr(exc))}") \
                from None
        if any(word in out for word in _FAILED):
            raise DriverError(f"`{cmd}` failed: {self.redact(out.strip())}")
        return self.redact(out)

    def _system(self, cmd: str, answer: str = "Y") -> str:
        if not self.conn.check_config_mode():
            self.conn.config_mode()  # `system-view`
        return self._answered(cmd, answer)

    def save_rollback_point(self) -> str:
        """The running configuration saved on the device, for `configuration replace`."""
        out = self._answered(f"save {self.rollback_file}")
        self.rollback_point = True
        return out

    def commit_confirm(self, seconds: int) -> str:
        return self._system(f"configuration commit delay {max(1, math.ceil(seconds / 60))}")

    def confirm(self) -> str:
        out = self._system("configuration commit")
        self.conn.exit_config_mode()
        return out

    def _replace(self) -> str:
        if not self.rollback_point:
            raise DriverError("no rollback point saved on the device in this session: "
                              "`configuration replace file` has nothing to take")
        # It offers to save the configuration it replaces: no, that one is the bad one.
        return self._system(f"configuration replace file {self.rollback_file}", answer="N")

    def cancel_commit(self) -> str:
        out = self._replace()
        out += self._system("configuration commit")
        self.conn.exit_config_mode()
        return out

    def rollback(self, backup: str) -> list[str]:
        if not self.rollback_point:
            return super().rollback(backup)
        self._replace()
        self.conn.exit_config_mode()
        return [f"configuration replace file {self.rollback_file}"]
