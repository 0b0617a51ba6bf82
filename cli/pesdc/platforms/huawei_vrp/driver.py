"""Huawei VRP push drivers and diffs, shared by the four VRP families and the USG.

`display current-configuration`; `system-view`; the remediation with `quit` closing
each section; `save` answered `Y`.

- VRP5 (S-series campus switches, huawei_vrp) and AR routers (huawei_ar): every line
  takes effect as it is typed; there is no trial commit, so a failed push is undone by
  pushing the backup back (the engine's fallback). SNMPv3 keys are taken only at the
  device's `Enter Password:` / `Confirm Password:` prompts (S-series V200R011C10
  Command Reference, chapter 16 `snmp-agent usm-user`, Parameters: without `cipher`
  the key is asked interactively): the template writes the key's marker after the
  algorithm (`... authentication-mode sha2-256 %%PESDC_SECRET:snmp-auth%%`), and
  the driver sends the command, then the key twice, as the two prompts' answers.
- VRP8 (CloudEngine huawei_ce, NetEngine huawei_ne; netmiko `huawei_vrpv8`): lines go
  to the candidate database; `commit trial SECONDS` applies them with a timer; unless
  `commit` confirms in time the device rolls itself back, and `abort trial` (which
  asks `[Y/N]`, answered `Y`) does it at once (CE6800 V300R023C00 Command Reference
  `commit`, `abort trial`; NetEngine 8000 `Commit(CFGOM)`, `CfgTrial(CFGOM)`). SNMPv3
  users are pushed in the one-line plaintext form (CE `snmp-agent usm-user`, Format).

A device never displays a key it was given: it shows `... cipher <its ciphertext>`, in
separate lines on VRP8. Each family's normaliser folds the display back into the form
the template writes, so the diff (and the push's post-check) sees the key in place
rather than a line to send again.
"""

from __future__ import annotations

import re

from hier_config import Platform as HierPlatform

from pesdc.platforms.driver import BACKUP_PUSH, COMMIT_TRIAL, Driver, DriverError
from pesdc.platforms.remediation import CliSyntax, noise_dropped

VRP_NOISE = ("!Software Version", "!Last configuration", "!Time of last")
_vrp_normalise = noise_dropped(VRP_NOISE)
# VRP and the USG firewalls that run it: `quit` closes a section, `undo` negates.
VRP = CliSyntax(HierPlatform.HUAWEI_VRP, "quit", "undo", _vrp_normalise)

_SHOWN_KEY = re.compile(r"^(snmp-agent usm-user v3 \S+ (?:authentication|privacy)-mode \S+)"
                        r" (?:localized-configuration )?cipher (\S+)$")


def vrp5_normalise(text: str) -> str:
    """VRP5/AR: a displayed SNMPv3 key line in the form the template writes (the key
    after the algorithm, where the prompt took it)."""
    lines = []
    for line in _vrp_normalise(text).splitlines():
        m = _SHOWN_KEY.match(line)
        lines.append(f"{m.group(1)} {m.group(2)}" if m else line)
    return "\n".join(lines) + "\n"


_USM = re.compile(r"^snmp-agent usm-user v3 (\S+)(?: (group) (\S+)| (authentication-mode|"
                  r"privacy-mode) (\S+) (?:localized-configuration )?cipher (\S+))?$")


def vrp8_normalise(text: str) -> str:
    """VRP8: the displayed `usm-user v3 U group G`, `... authentication-mode A cipher K`
    and `... privacy-mode P cipher K` lines of one user (and a bare `usm-user v3 U`, if
    shown), folded into the one-line form it was created with (`usm-user v3 U G
    authentication-mode A K privacy-mode P K`)."""
    lines = _vrp_normalise(text).splitlines()
    users: dict[str, dict[str, str]] = {}
    for line in lines:
        if m := _USM.match(line):
            parts = users.setdefault(m.group(1), {})
            if m.group(2):
                parts["group"] = m.group(3)
            elif m.group(4):
                parts[m.group(4)] = f"{m.group(5)} {m.group(6)}"
    out, done = [], set()
    for line in lines:
        m = _USM.match(line)
        user = m.group(1) if m else ""
        parts = users.get(user, {})
        if m and {"group", "authentication-mode", "privacy-mode"} <= set(parts):
            if user not in done:
                out.append(f"snmp-agent usm-user v3 {user} {parts['group']} "
                           f"authentication-mode {parts['authentication-mode']} "
                           f"privacy-mode {parts['privacy-mode']}")
                done.add(user)
            continue
        out.append(line)
    return "\n".join(out) + "\n"


VRP5 = CliSyntax(HierPlatform.HUAWEI_VRP, "quit", "undo", vrp5_normalise)
VRP8 = CliSyntax(HierPlatform.HUAWEI_VRP, "quit", "undo", vrp8_normalise)


class HuaweiDriver(Driver):
    """VRP line by line (the USG firewalls use it as it is)."""

    name = "huawei_vrp"
    show_running = "display current-configuration"
    syntax = VRP

    def leave_config(self) -> None:
        self.conn.exit_config_mode()  # `return`

    def save(self) -> str:
        return self.save_said_successfully(cmd="save", confirm=True, confirm_response="Y")


# A key the device takes at its prompts: the command, then the key's marker.
PROMPTED_KEY = re.compile(r"^(\s*snmp-agent usm-user v3 \S+ (?:authentication|privacy)-mode "
                          r"\S+) (%%PESDC_SECRET:[A-Za-z0-9_.-]+%%)$")


def answered(lines: list[str], confirms: tuple[str, ...] = ()) -> list[str]:
    """The lines as typed at the device: a line ending in a key it asks for becomes the
    command followed by the key twice (the answers to `Enter Password:` and `Confirm
    Password:`); a line in ``confirms`` (it asks `Continue? [Y/N]:`) is followed by
    `Y`. Sent without echo checks (send_config), the device reads each answer at its
    prompt, whichever batch it falls in."""
    out: list[str] = []
    for line in lines:
        m = PROMPTED_KEY.match(line)
        if m:
            out += [m.group(1), m.group(2), m.group(2)]
        else:
            out += [line, "Y"] if line.strip() in confirms else [line]
    return out


class HuaweiVrp5Driver(HuaweiDriver):
    """VRP5 campus switches and AR routers: line by line, keys at their prompts."""

    name = "huawei_vrp5"
    syntax = VRP5
    # Nothing native (no trial or confirmed commit on VRP5 or AR): a failed push or
    # post-check is undone by pushing the backup back, and `pesdc net plan` says so.
    commit_model = BACKUP_PUSH
    # `undo http server enable` asks "The operation will stop HTTP service. Continue?
    # [Y/N]:" (S-series session in a third-party guide, index id 5696740401).
    confirms: tuple[str, ...] = ("undo http server enable", "undo http secure-server enable")
    # The keys typed at `Enter Password:` are never echoed: the push reads each line
    # back by timing rather than waiting for its echo (the base driver's verify_echo).
    verify_echo = False

    def push(self, lines: list[str]) -> str:
        return super().push(answered(lines, self.confirms))


class HuaweiVrpv8Driver(HuaweiDriver):
    """VRP8 (CloudEngine, NetEngine): candidate configuration, trial commit."""

    name = "huawei_vrpv8"
    syntax = VRP8
    commit_model = COMMIT_TRIAL
    supports_commit_confirm = True

    def leave_config(self) -> None:
        """Stay in system-view: the candidate is committed by commit_confirm."""

    def _system(self, cmd: str, expect: str = r"\]") -> str:
        if not self.conn.check_config_mode():
            self.conn.config_mode()
        try:
            out = str(self.conn.send_command(cmd, expect_string=expect, read_timeout=120))
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
        """`abort trial` asks `Continue? [Y/N]:`; the answer `Y` rolls back."""
        out = self._system("abort trial", expect=r"\[Y/N\]")
        out += str(self.conn.send_command("Y", expect_string=r"\]", read_timeout=120))
        self.conn.exit_config_mode()
        return self.redact(out)

    def rollback(self, backup: str) -> list[str]:
        lines = super().rollback(backup)
        if lines:
            self._system("commit")
            self.conn.exit_config_mode()
        return lines
