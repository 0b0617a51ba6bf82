"""One driver interface for every platform, NAPALM-style.

A driver wraps one netmiko connection (or anything with the same methods: the tests
replay recorded sessions through a fake) and knows its platform's commands:

- ``open``/``close``: connect with timeouts and retries;
- ``get_running``: the running configuration as the device displays it;
- ``plan(running, intended)``: the lines that take the device to ``intended``: its
  platform's remediation (``remediation.CliSyntax`` for a line-based CLI), the one
  `pesdc render --against` writes too;
- ``push(lines)``: send exactly those lines (comments and trailing return/end never);
- ``save``; ``commit_confirm``/``confirm``/``cancel_commit`` where the platform has a
  confirmed commit; ``rollback(backup)``: back to a saved running configuration.

Every text a driver returns or logs has passed through the redactor.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hier_config import HConfig

from pesdc.platforms.remediation import CliSyntax, strip_comments

log = logging.getLogger("pesdc.netpush")

Connect = Callable[..., Any]  # netmiko.ConnectHandler or a replaying fake
Redact = Callable[[str], str]

# Output a device prints for a rejected line, per platform family.
ERROR_MARKERS = ("% Invalid input", "% Incomplete command", "% Ambiguous command",
                 "% Unknown command", "Error:", "% Unrecognized command",
                 "% Wrong parameter", "% Too many parameters")


class DriverError(Exception):
    """A device refused or could not be reached; the message is already redacted."""


class ConnectError(DriverError):
    pass


class PushError(DriverError):
    pass


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
    supports_commit_confirm: ClassVar[bool] = False
    batch: ClassVar[int] = 25  # lines per send_config_set call
    read_timeout: ClassVar[float] = 60.0

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

    # -- session -------------------------------------------------------------------
    def open(self) -> None:
        from netmiko.exceptions import NetmikoAuthenticationException

        last: Exception | None = None
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

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # a dead session: nothing to close
                self.conn.disconnect()
            self.conn = None

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
        for marker in ERROR_MARKERS:
            if marker in out:
                at = out.index(marker)
                snippet = out[max(0, at - 200):at + 200]
                raise PushError(f"the device rejected a line: {self.redact(snippet)}")

    def send_config(self, lines: list[str]) -> str:
        out = self.conn.send_config_set(lines, exit_config_mode=False, cmd_verify=False,
                                        read_timeout=self.read_timeout)
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
        """Send exactly these lines in configuration mode, in batches."""
        lines = [self.fill(ln) for ln in strip_comments(lines)]  # all filled before any is sent
        output = []
        try:
            for i in range(0, len(lines), self.batch):
                self.check_stop(i, len(lines))
                chunk = lines[i:i + self.batch]
                out = self.send_config(chunk)
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
