"""Linux nftables firewalls and gatekeepers (netmiko `linux`, commands as root).

There is no incremental CLI worth diffing: the intended ruleset (which starts with
`flush ruleset`) is uploaded and applied with one `nft -f`, a single atomic
transaction. Whether anything changes is decided exactly: the intended file is loaded
into a throw-away network namespace on the device (`unshare -n`) and its `nft list
ruleset` compared with the live one (counter values aside). Rollback loads the saved
listing the same way, after a `flush ruleset`.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import re
import secrets as _random
from collections.abc import Callable

from pesdc.platforms.driver import TRANSACTION, Driver, DriverError, PushError
from pesdc.platforms.remediation import strip_comments

COUNTER = re.compile(r"counter packets \d+ bytes \d+")
CHUNK = 2000  # base64 characters per upload command (a tty line holds 4095)


def normalise(text: str) -> str:
    """A ruleset listing as the comparison sees it: no counter values, no blank lines."""
    lines = [COUNTER.sub("counter", ln).rstrip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln.strip()) + "\n"


def remediation(running: str, intended: str,
                canonical: Callable[[str], str] = normalise) -> list[str]:
    """Nothing when the running ruleset is the intended one, else the whole intended
    file (it starts with `flush ruleset`: one atomic `nft -f`). ``canonical`` is how
    the intended file lists once loaded: on the device the kernel's own listing, from
    a scratch namespace; offline (`render --against`) its normalised text."""
    if normalise(running) == canonical(intended):
        return []
    return strip_comments(intended.splitlines())


class NftDriver(Driver):
    name = "nftables"
    show_running = "nft list ruleset"
    commit_model = TRANSACTION  # one `nft -f`; nothing on the host reverts it later

    def __init__(self, *a: object, save_path: str | None = "/etc/nftables.conf",
                 **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.save_path = save_path
        self._token = _random.token_hex(6)
        self._canonical: dict[str, str] = {}
        self._last_file: str | None = None
        self.last_diff = ""

    @property
    def _tmp(self) -> str:
        return f"/run/pesdc-netpush-{self._token}"

    def run(self, cmd: str, what: str) -> str:
        # Long lines wrap in the terminal echo: match the prompt, not the echo.
        out = self.command(f"{cmd}; echo PESDC_RC=$?", cmd_verify=len(cmd) < 150)
        m = re.search(r"^PESDC_RC=(\d+)", out, re.M)
        if not m or m.group(1) != "0":
            body = out.replace(m.group(0), "").strip() if m else out.strip()
            raise PushError(f"{what} failed: {self.redact(body)[-1500:]}")
        return out.replace(m.group(0), "").strip()

    def normalise(self, text: str) -> str:
        return normalise(text)

    def upload(self, text: str, name: str) -> str:
        path = f"{self._tmp}-{name}.nft"
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.run(f"umask 077; : > {path}.b64", "upload")
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
        for n, chunk in enumerate(chunks, 1):
            if name == "apply":
                self.check_stop(n - 1, len(chunks), "upload chunk(s); nothing loaded")
            self.run(f"printf '%s' '{chunk}' >> {path}.b64", "upload")
            if self.on_batch is not None:
                self.on_batch(n, len(chunks))
        self.run(f"base64 -d {path}.b64 > {path} && rm -f {path}.b64", "upload")
        return path

    def canonical(self, ruleset: str) -> str:
        """How the kernel lists this ruleset, computed in a scratch namespace."""
        if ruleset not in self._canonical:
            path = self.upload(self.fill(ruleset), "check")
            out = self.run(f"unshare -n sh -c 'nft -f {path} && nft list ruleset' 2>&1",
                           "nft check of the intended ruleset")
            self.run(f"rm -f {path}", "cleanup")
            self._canonical[ruleset] = self.normalise(out)
        return self._canonical[ruleset]

    def plan(self, running: str, intended: str) -> list[str]:
        self.last_diff = "".join(difflib.unified_diff(
            normalise(running).splitlines(keepends=True),
            self.canonical(intended).splitlines(keepends=True), "running", "intended"))
        return remediation(running, intended, self.canonical)

    def differs(self, running: str, reference: str) -> list[str]:
        if self.normalise(running) == self.normalise(reference):
            return []
        return ["flush ruleset", *strip_comments(reference.splitlines())]

    def push(self, lines: list[str]) -> str:
        text = "\n".join(self.fill(ln) for ln in strip_comments(lines)) + "\n"
        try:
            path = self.upload(text, "apply")
            self.run(f"nft -c -f {path} 2>&1", "nft -c (syntax check)")
            # The last point to stop: `nft -f` replaces the whole ruleset in one
            # transaction, so after it the device is on its new ruleset.
            self.check_stop(1, 1, "upload(s) and check; nothing loaded")
            out = self.run(f"nft -f {path} 2>&1", "nft -f")
        except DriverError:
            raise
        except Exception as exc:
            raise PushError(f"push interrupted: {self.redact(str(exc) or repr(exc))}") \
                from None
        self._last_file = path
        return self.redact(out)

    def save(self) -> str:
        if not self.save_path or not self._last_file:
            return ""
        return self.run(f"install -m 600 {self._last_file} {self.save_path}",
                        f"save to {self.save_path}")

    def rollback(self, backup: str) -> list[str]:
        lines = self.differs(self.get_running(), backup)
        if lines:
            self.push(lines)
        return lines

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.send_command(f"rm -f {self._tmp}-*", read_timeout=10)
        super().close()
