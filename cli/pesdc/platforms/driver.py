"""One driver interface for every platform, NAPALM-style.

A driver wraps one netmiko connection (the tests drive netmiko's own classes against a
synthetic device terminal, tests/netpush/fake.py) and knows its platform's commands:

- ``open``/``close``: connect with timeouts and retries;
- ``get_running``: the running configuration as the device displays it;
- ``plan(running, intended)``: the lines that take the device to ``intended``: its
  platform's remediation (``remediation.CliSyntax`` for a line-based CLI), the one
  `pesdc render --against` writes too;
- ``push(lines)``: send exactly those lines (comments and trailing return/end never);
- ``save``; ``commit_confirm``/``confirm``/``cancel_commit`` where the platform has a
  confirmed commit; ``rollback(backup)``: back to a saved running configuration.

Each driver declares its family's commit model (``commit_model``, a :class:`CommitModel`):
how a change is made safe on that device, which the engine follows and `pesdc net plan`
names per device. A line the device rejects stops the push at that line
(:class:`RejectedLine` names it). Every text a driver returns or logs has passed through
the redactor, netmiko's own debug log included.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hier_config import HConfig

from pesdc.platforms.remediation import CliSyntax, strip_comments

log = logging.getLogger("pesdc.netpush")

Connect = Callable[..., Any]  # netmiko.ConnectHandler, or the tests' synthetic device
Redact = Callable[[str], str]

# Output a device prints for a rejected line, per platform family: VRP `Error: ...`
# (and `Error:Incomplete ...`, no space), Comware `% Unrecognized command found at '^'
# position.` and its siblings, IOS `% Invalid input detected at '^' marker.`,
# `% Incomplete command.`, `% Ambiguous command:`. Each opens its own line (netmiko's
# and scrapli-community's platform definitions match the same texts).
# FRR's vtysh says `% Unknown command: LINE` and `% Command incomplete: LINE`.
ERROR_MARKERS = ("% Invalid input", "% Incomplete command", "% Ambiguous command",
                 "% Unknown command", "Error:", "% Unrecognized command",
                 "% Wrong parameter", "% Too many parameters", "% Command incomplete")
# The same, anchored at the start of a line so that an echoed line which merely
# contains the words (a description "Error: ...") is not taken for the device's answer.
ERROR_PATTERN = r"^\s*(?:" + "|".join(re.escape(m) for m in ERROR_MARKERS) + ").*$"


@dataclass(frozen=True)
class CommitModel:
    """How a family makes a change safe, as a driver declares it (``commit_model``).

    ``native``: the device itself can undo the change (a trial commit, a commit
    delay, a revert timer); otherwise the engine pushes the backup back on failure.
    When the device's timer starts: ``arm_before_push``, the engine arms it before the
    lines are sent (``prepare_commit``: Comware's commit delay reverts to what the
    device had then); ``armed_by_push``, the driver's push arms it itself (IOS enters
    configuration mode with `configure terminal revert timer`) and
    ``supports_commit_confirm`` says whether it did; otherwise ``commit_confirm`` after
    the push starts it (VRP8's trial commit of the candidate). ``cancel`` names what
    ``cancel_commit`` does on the device; ``discard`` is the command that drops what a
    failed push left uncommitted (VRP8's candidate), if any."""

    name: str
    native: bool
    says: str  # what `pesdc net plan` prints for a device of this model
    arm_before_push: bool = False
    armed_by_push: bool = False
    cancel: str = ""
    discard: str | None = None


BACKUP_PUSH = CommitModel(
    "backup-push", native=False,
    says="no native confirmed commit: a failed push or post-check is undone by pushing "
         "the backup back")
# VRP8 two-phase validation: lines go to the candidate; `commit trial N` runs them with a
# timer, `commit` confirms, `abort trial` reverts at once; `clear configuration candidate`
# drops uncommitted lines (NetEngine 8000 F1A command reference, "commit (All views
# except the user view)"; CloudEngine 8800/7800/6800/5800 command reference 3.1.1
# "abort trial"; configuration guide "two-phase validation mode").
COMMIT_TRIAL = CommitModel(
    "commit-trial", native=True,
    says="native: candidate, `commit trial N`, `commit` to confirm, `abort trial` on "
         "failure", cancel="abort trial", discard="clear configuration candidate")
# Comware 7 (Release 1121 and later): `configuration commit delay N` before the change,
# `configuration commit` keeps it; without it the device rolls back to the settings it
# had before the delay command (HPE FlexNetwork 5510 HI Fundamentals Configuration Guide,
# "Configuring configuration commit delay").
COMMIT_DELAY = CommitModel(
    "commit-delay", native=True, arm_before_push=True,
    says="native: `configuration commit delay N` before the push, `configuration "
         "commit` to confirm; the device rolls itself back otherwise",
    cancel="configuration rollback to the point saved before the push")
# IOS / IOS-XE: `archive` (path) plus `configure terminal revert timer N` (or
# `configure replace <archive> revert trigger timer N`): `configure confirm` keeps the
# change, `configure revert now` reverts (Cisco IOS Configuration Replace and
# Configuration Rollback).
REVERT_TIMER = CommitModel(
    "revert-timer", native=True, armed_by_push=True,
    says="native where the device has its `archive`: `configure terminal revert timer` "
         "for the push, `configure confirm` to confirm, `configure revert now` on "
         "failure; without the archive the backup is pushed back",
    cancel="configure revert now")
# A whole file loaded in one transaction (nftables' `nft -f`): it applies entirely or
# not at all, but nothing on the device reverts it later: the backup is loaded back.
TRANSACTION = CommitModel(
    "transaction", native=False,
    says="one atomic transaction (`nft -f`); a failed post-check loads the backup back")


class DriverError(Exception):
    """A device refused or could not be reached; the message is already redacted."""


class ConnectError(DriverError):
    pass


class PushError(DriverError):
    pass


class RejectedLine(PushError):
    """The device refused one line of the push (its error answer to that line); the
    push stopped there. ``line`` is the refused line, redacted; ``sent`` how many
    lines had been sent before it."""

    def __init__(self, message: str, line: str, sent: int):
        super().__init__(message)
        self.line = line
        self.sent = sent


class PushInterrupted(PushError):
    """The run was interrupted (SIGINT/SIGTERM) between two batches of a push: what was
    sent so far is on the device and the engine rolls it back."""


def _identity(text: str) -> str:
    return text


@dataclass
class ConnParams:
    """How to reach one device; ``as_netmiko`` gives ConnectHandler's keywords."""

    device_type: str
    host: str
    port: int = 22
    username: str = "root"
    password: str | None = None
    key_file: str | None = None
    known_hosts: str | None = None
    secret: str = ""
    timeout: float = 20.0
    retries: int = 2
    retry_delay: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_netmiko(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "device_type": self.device_type, "host": self.host, "port": self.port,
            "username": self.username, "conn_timeout": self.timeout,
            "auth_timeout": self.timeout, "banner_timeout": self.timeout,
            "timeout": max(self.timeout, 30), "secret": self.secret,
            "fast_cli": True,
        }
        if self.password is not None:
            kw["password"] = self.password
        if self.key_file:
            kw.update(use_keys=True, key_file=self.key_file, allow_agent=False)
        if self.known_hosts:
            kw.update(ssh_strict=True, system_host_keys=False, alt_host_keys=True,
                      alt_key_file=self.known_hosts)
        kw.update(self.extra)
        return kw


def default_connect(**kw: Any) -> Any:
    from netmiko import ConnectHandler

    return ConnectHandler(**kw)


class Driver:
    """The common flow; a platform module fills in the commands."""

    name: ClassVar[str] = "base"
    show_running: ClassVar[str] = "show running-config"
    # How its CLI is diffed (None: the platform's own plan, as nftables has).
    syntax: ClassVar[CliSyntax | None] = None
    # How a change is made safe on this family (CommitModel); the engine follows it.
    commit_model: ClassVar[CommitModel] = BACKUP_PUSH
    # Kept for drivers that only say "I have a confirmed commit" (a trial commit after
    # the push): __init_subclass__ keeps the two in agreement.
    supports_commit_confirm: ClassVar[bool] = False
    batch: ClassVar[int] = 25  # lines per send_config_set call
    read_timeout: ClassVar[float] = 60.0
    # The device's answer to a line it refuses (matched per line, at a line start).
    error_pattern: ClassVar[str] = ERROR_PATTERN
    # Wait for each line's echo and prompt before the next (netmiko cmd_verify). A
    # driver whose push answers the device's own questions (a key typed at `Enter
    # Password:`, never echoed) turns it off: each line is then read back by timing,
    # still checked against error_pattern before the next is sent.
    verify_echo: ClassVar[bool] = True

    def __init_subclass__(cls, **kw: Any) -> None:
        """A driver names its model (``commit_model``); one written before the
        declaration existed gets it from what it does declare: a confirmed commit after
        the push (``supports_commit_confirm = True``: a trial commit), one armed before
        it (``confirm_before_push``: a commit delay), one known per device after the
        push (``supports_commit_confirm`` a property: the push arms a revert timer)."""
        super().__init_subclass__(**kw)
        own = cls.__dict__
        if "commit_model" in own:
            return
        if own.get("confirm_before_push") is True:
            cls.commit_model = COMMIT_DELAY
        elif isinstance(own.get("supports_commit_confirm"), property):
            cls.commit_model = REVERT_TIMER
        elif own.get("supports_commit_confirm") is True:
            cls.commit_model = COMMIT_TRIAL

    def __init__(self, params: ConnParams, connect: Connect | None = None,
                 redact: Redact | None = None, fill: Redact | None = None):
        self.params = params
        self._connect = connect or default_connect
        self.redact = redact or _identity
        self.fill = fill or _identity  # placeholders -> secret values, only when sending
        self.conn: Any = None
        self.on_batch: Callable[[int, int], None] | None = None  # (sent, total) hook
        # Asked before each batch: a true answer stops the push at that boundary
        # (PushInterrupted) so the engine can roll back; never asked during a rollback.
        self.should_stop: Callable[[], str | None] | None = None
        self.last_diff = ""  # a whole-file platform's diff from the last plan
        self._log_filter: _RedactingFilter | None = None

    # -- session -------------------------------------------------------------------
    def open(self) -> None:
        from netmiko.exceptions import NetmikoAuthenticationException

        last: Exception | None = None
        self._guard_netmiko_log()
        for attempt in range(self.params.retries + 1):
            try:
                self.conn = self._connect(**self.params.as_netmiko())
                self.after_open()
                return
            except NetmikoAuthenticationException as exc:
                raise ConnectError(f"authentication failed on {self.params.host}: "
                                   f"{self.redact(str(exc).splitlines()[0])}") from None
            except Exception as exc:  # timeouts, refused, reset, host key
                last = exc
                log.info("connect %s attempt %d failed: %s", self.params.host, attempt + 1,
                         self.redact(str(exc).splitlines()[0] if str(exc) else repr(exc)))
                if attempt < self.params.retries:
                    time.sleep(self.params.retry_delay * (attempt + 1))
        msg = str(last).splitlines()[0] if last and str(last) else repr(last)
        raise ConnectError(f"cannot connect to {self.params.host}:{self.params.port} after "
                           f"{self.params.retries + 1} attempt(s): {self.redact(msg)}")

    def after_open(self) -> None:
        """Platform session setup (enable mode, ...)."""

    def _guard_netmiko_log(self) -> None:
        """netmiko logs what it reads at DEBUG, the device's echo of a filled secret
        included: its records pass through this driver's redactor while it is open."""
        if self._log_filter is None:
            self._log_filter = _RedactingFilter(self.redact)
            logging.getLogger("netmiko").addFilter(self._log_filter)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # a dead session: nothing to close
                self.conn.disconnect()
            self.conn = None
        if self._log_filter is not None:
            logging.getLogger("netmiko").removeFilter(self._log_filter)
            self._log_filter = None

    def alive(self) -> bool:
        try:
            return bool(self.conn is not None and self.conn.is_alive())
        except Exception:
            return False

    def command(self, cmd: str, read_timeout: float | None = None,
                cmd_verify: bool = True) -> str:
        try:
            out = self.conn.send_command(cmd, read_timeout=read_timeout or self.read_timeout,
                                         cmd_verify=cmd_verify)
        except Exception as exc:
            shown = self.redact(cmd)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            first = (str(exc).strip().splitlines() or [repr(exc)])[0]
            raise DriverError(f"`{shown}` failed: {self.redact(first)}") from None
        return str(out)

    # -- configuration ---------------------------------------------------------------
    def get_running(self) -> str:
        return self.command(self.show_running)

    def normalise(self, text: str) -> str:
        """The configuration as the diff sees it (no comments, no trailer, no noise)."""
        if self.syntax is None:
            return "\n".join(strip_comments(text.splitlines())) + "\n"
        return self.syntax.normalise(text)

    def hconfig(self, text: str) -> HConfig:
        assert self.syntax is not None
        return self.syntax.hconfig(text)

    def plan(self, running: str, intended: str) -> list[str]:
        """The remediation lines, secrets still as placeholders."""
        assert self.syntax is not None
        return self.syntax.remediation(running, intended)

    def differs(self, running: str, reference: str) -> list[str]:
        """What still separates a running configuration from a reference one."""
        return self.plan(running, reference)

    def check_output(self, out: str) -> None:
        """A device's error answer anywhere in an output (at a line start: an echoed
        line that only contains the words is not one)."""
        m = re.search(self.error_pattern, out, re.M)
        if m:
            at = m.start()
            snippet = out[max(0, at - 200):at + 200]
            raise PushError(f"the device rejected a line: {self.redact(snippet)}")

    def send_config(self, lines: list[str]) -> str:
        """Send one batch line by line, each after the device's prompt came back; the
        first line the device answers with its error text stops the batch there
        (RejectedLine, ``sent`` counted within the batch): the lines after it are
        never sent."""
        from netmiko.exceptions import ConfigInvalidException

        try:
            out = self.conn.send_config_set(lines, exit_config_mode=False,
                                            cmd_verify=self.verify_echo,
                                            error_pattern=self.error_pattern,
                                            read_timeout=self.read_timeout)
        except ConfigInvalidException as exc:
            at = _rejected_index(str(exc), lines)
            shown = self.redact(lines[at].strip()) if at is not None else "?"
            answer = str(exc).rsplit("matched error:", 1)[-1].strip()
            raise RejectedLine(f"the device rejected line {shown!r}: {self.redact(answer)}",
                               shown, at if at is not None else 0) from None
        return str(out)

    def leave_config(self) -> None:
        self.conn.exit_config_mode()

    def check_stop(self, sent: int, total: int, unit: str = "line(s)") -> None:
        """Between two batches: stop here if the run was interrupted."""
        why = self.should_stop() if self.should_stop is not None else None
        if why:
            raise PushInterrupted(f"interrupted by {why} during the push after {sent} of "
                                  f"{total} {unit}")

    def push(self, lines: list[str]) -> str:
        """Send exactly these lines in configuration mode, in batches; a rejected line
        stops the push there (RejectedLine: the line, and how many were sent before)."""
        lines = [self.fill(ln) for ln in strip_comments(lines)]  # all filled before any is sent
        output = []
        try:
            for i in range(0, len(lines), self.batch):
                self.check_stop(i, len(lines))
                chunk = lines[i:i + self.batch]
                try:
                    out = self.send_config(chunk)
                except RejectedLine as exc:
                    exc.sent += i
                    raise
                output.append(out)
                self.check_output(out)
                if self.on_batch is not None:
                    self.on_batch(i + len(chunk), len(lines))
            self.leave_config()
        except DriverError:
            raise
        except Exception as exc:
            raise PushError(f"push interrupted after {sum(len(o) > 0 for o in output)} "
                            f"batch(es): {self.redact(str(exc) or repr(exc))}") from None
        return self.redact("".join(output))

    def save(self) -> str:
        try:
            return self.redact(str(self.conn.save_config()))
        except Exception as exc:
            raise DriverError(f"save failed: {self.redact(str(exc) or repr(exc))}") from None

    def save_said_successfully(self, **save_config: Any) -> str:
        """A save whose reply must say "successfully" (VRP, Comware): any other reply is
        a failed save, never taken for one that worked."""
        try:
            out = str(self.conn.save_config(**save_config))
        except Exception as exc:
            raise DriverError(f"save failed: {self.redact(str(exc) or repr(exc))}") from None
        if "successfully" not in out.lower():
            raise DriverError(f"save failed: {self.redact(out.strip())}")
        return self.redact(out)

    def discard(self) -> str:
        """Drop what a failed push left uncommitted (the commit model's ``discard``
        command, in configuration mode); nothing where lines take effect at once."""
        cmd = self.commit_model.discard
        if cmd is None:
            return ""
        if not self.conn.check_config_mode():
            self.conn.config_mode()
        try:
            # The prompt changes with it (VRP8 [*name] -> [~name]): wait for the name.
            out = str(self.conn.send_command(cmd, expect_string=re.escape(
                self.conn.base_prompt), read_timeout=self.read_timeout))
        except Exception as exc:
            raise DriverError(f"`{cmd}` failed: {self.redact(str(exc) or repr(exc))}") \
                from None
        self.check_output(out)
        self.conn.exit_config_mode()  # nothing uncommitted is left to ask about
        return self.redact(out)

    def save_rollback_point(self) -> str:
        """Keep the running configuration on the device where its native rollback
        needs a file (Comware's `configuration replace file`); nothing by default."""
        return ""

    def prepare_commit(self, seconds: int) -> str:
        """Arm the device's timer before the push (models with ``arm_before_push``):
        the rollback point first, then ``commit_confirm``."""
        out = self.save_rollback_point()
        return out + self.commit_confirm(seconds)

    def commit_confirm(self, seconds: int) -> str:
        raise NotImplementedError

    def confirm(self) -> str:
        raise NotImplementedError

    def cancel_commit(self) -> str:
        raise NotImplementedError

    def rollback(self, backup: str) -> list[str]:
        """Back to a backed-up running configuration; returns the lines sent."""
        lines = self.differs(self.get_running(), backup)
        if lines:
            self.push(lines)
        return lines


def _rejected_index(message: str, lines: list[str]) -> int | None:
    """Which line of a batch netmiko's ConfigInvalidException names ("Invalid input
    detected at command: CMD, matched error: ...")."""
    for n, line in enumerate(lines):
        if message.startswith(f"Invalid input detected at command: {line}, matched error:"):
            return n
    return None


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Redact):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own handling
            return True
        shown = self.redact(text)
        if shown != text:
            record.msg, record.args = shown, None
        return True
