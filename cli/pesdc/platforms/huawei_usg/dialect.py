"""How the audit reads a USG firewall's configuration (VRP, with a security policy)."""

from __future__ import annotations

from pesdc.platforms.dialect import Finding, session_policy
from pesdc.platforms.huawei_usg.policy import READER
from pesdc.platforms.huawei_vrp.dialect import VrpDialect


class UsgDialect(VrpDialect):
    http_off = r"^undo web-manager enable"
    login_attempts = r"failed-count (\d+)"
    final_deny = r"rule name pesdc-default-deny\s*\n(\s+description.*\n)?\s+action deny"
    policy = READER

    def stateful(self, text: str) -> Finding | None:
        return session_policy(text, r"^security-policy\s*$")
