"""What verify reports: one result per check, with the evidence it saw."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Check:
    target: str  # a host (NAME.CENTER), device, site or the center
    category: str  # packages, services, ports, files, users, audit, logs, time,
    #                replication, backups, isolation, policy, drift, routing, links
    name: str  # what was checked, short and specific
    ok: bool
    expected: str = ""
    observed: str = ""
    evidence: str = ""  # command output or file excerpt the verdict rests on
    skipped: str = ""  # why not checked (not applicable here); ok stays True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VerifyReport:
    dc: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def by_target(self) -> dict[str, list[Check]]:
        out: dict[str, list[Check]] = {}
        for c in self.checks:
            out.setdefault(c.target, []).append(c)
        return out

    def status(self) -> dict[str, str]:
        """target -> pass / fail (for colouring the center's picture)."""
        return {t: "fail" if any(not c.ok for c in cs) else "pass"
                for t, cs in self.by_target().items()}
