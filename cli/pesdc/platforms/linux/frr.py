"""FRR through vtysh (netmiko cisco_ios): IOS-like CLI, incremental remediation.

`show running-config` of vtysh differs from a written frr.conf in ways that are not
configuration: the version banner, `exit` lines, the `no ipv6 forwarding` default, a
second `hostname` from zebra (the host's UTS name), and `line vty`, which vtysh keeps
to itself and never shows. Those are dropped on both sides before the diff.
"""

from __future__ import annotations

from hier_config import Platform as HierPlatform

from pesdc.platforms.cisco_ios.driver import IosDriver
from pesdc.platforms.driver import DriverError
from pesdc.platforms.remediation import CliSyntax, strip_comments

FRR_NOISE = ("Building configuration", "Current configuration", "frr version",
             "no ipv6 forwarding", "hostname ")


def frr_normalise(text: str) -> str:
    out: list[str] = []
    skip = False
    for ln in text.splitlines():
        if ln.startswith(FRR_NOISE) or ln.strip() in ("exit", "exit-vrf"):
            continue
        if not ln.startswith(" "):
            skip = ln.startswith("line vty")
        if skip:
            continue
        out.append(ln)
    return "\n".join(strip_comments(out)) + "\n"


FRR = CliSyntax(HierPlatform.CISCO_IOS, "exit", "no", frr_normalise)


class FrrDriver(IosDriver):
    name = "frr"
    syntax = FRR

    def after_open(self) -> None:
        """vtysh starts enabled; `terminal length 0` is set by netmiko."""

    def leave_config(self) -> None:
        self.conn.exit_config_mode(exit_config="end")

    def save(self) -> str:
        out = self.command("write memory")
        if "[OK]" not in out and "Configuration saved" not in out and "Warning" in out:
            raise DriverError(f"write memory failed: {self.redact(out)}")
        return self.redact(out)
