"""How the audit reads an IOS configuration (switches, routers with a zone-based
firewall)."""

from __future__ import annotations

from pesdc.platforms.cisco_ios.policy import READER
from pesdc.platforms.dialect import Dialect, Finding, has


class IosDialect(Dialect):
    # IOS has no telnet server switch: telnet is the vty's `transport input`.
    telnet_off = r"^no ip http server"
    http_off = r"^no ip http server"
    ssh_v2 = r"^ip ssh version 2"
    vty_open = (r"^\s*transport input (?!ssh\s*$)", "more than SSH")
    log_host = r"^logging host (\S+)"
    ntp_server = r"^ntp server (\S+)"
    login_attempts = r"login block-for \d+ attempts (\d+)"
    idle_timeout = r"exec-timeout (\d+)"
    final_deny = r"class class-default\s*\n\s+drop"
    mgmt_acl = r"access-class \S+ in"
    policy = READER

    def stateful(self, text: str) -> Finding | None:
        if has(text, r"policy-map type inspect"):
            return Finding("passed", "inspect")
        return Finding("failed", "no inspect")
