"""One result type for every executor (pyinfra, ansible, netmiko, testinfra), as Nornir
has: the CLI, the change journal and the reports read only this."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class HostResult:
    host: str  # NAME.CENTER
    engine: str  # pyinfra, ansible, netmiko, testinfra, ...
    ok: bool
    changed: int = 0  # operations (or config lines) that changed something
    changes: list[str] = field(default_factory=list)  # what changed, human readable
    error: str | None = None  # why it failed (unreachable, command failed, ...)
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    action: str  # plan, apply, verify, ...
    engine: str
    hosts: list[HostResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(h.ok for h in self.hosts)

    @property
    def failed(self) -> list[HostResult]:
        return [h for h in self.hosts if not h.ok]

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)
