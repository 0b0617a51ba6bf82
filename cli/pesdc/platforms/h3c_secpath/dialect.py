"""How the audit reads a SecPath configuration: Comware's management lines, and the
zone policy (`security-policy ip`, its final drop rule, the session table it keeps)."""

from __future__ import annotations

from pesdc.platforms.dialect import Finding, session_policy
from pesdc.platforms.h3c_comware.dialect import ComwareDialect
from pesdc.platforms.h3c_secpath.policy import READER

POLICY_SECTION = r"^security-policy ip\s*$"


class SecPathDialect(ComwareDialect):
    final_deny = r"name pesdc-default-deny\s*\n(\s+description.*\n)?\s+action drop"
    policy = READER

    def stateful(self, text: str) -> Finding | None:
        return session_policy(text, POLICY_SECTION)
