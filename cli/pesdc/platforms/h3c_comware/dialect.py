"""How the audit reads a Comware configuration (switches and SecPath firewalls)."""

from __future__ import annotations

from pesdc.platforms.dialect import Dialect, Finding, session_policy
from pesdc.platforms.h3c_comware.policy import READER

POLICY_SECTION = r"^security-policy ip\s*$"


class ComwareDialect(Dialect):
    telnet_off = r"^undo telnet server enable"
    http_off = r"^undo ip http enable"
    ssh_v2 = r"^ssh server enable"
    log_host = r"^info-center loghost (\d+\.\d+\.\d+\.\d+)"
    ntp_server = r"^ntp-service unicast-server (\S+)"
    login_attempts = r"login-attempt (\d+)"
    final_deny = r"name pesdc-default-deny\s*\n(\s+description.*\n)?\s+action drop"
    mgmt_acl = r"ssh server acl \d+"
    policy = READER

    def stateful(self, text: str) -> Finding | None:
        return session_policy(text, POLICY_SECTION)
