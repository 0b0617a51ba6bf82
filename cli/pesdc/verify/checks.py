"""What verify reports: one result (:class:`pesdc.results.Result`) per check, with the
evidence it saw.

A check's verdict (:class:`pesdc.verdict.Verdict`) is pass, fail, error or skipped:
``error`` when the check could not observe (host unreachable, command that could not
run, output that could not be read), with its cause; an error fails the run as a
failure does and is never counted as a pass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pesdc.results import Result, ResultSet
from pesdc.verdict import Verdict


@dataclass
class Check(Result):
    target: str  # a host (NAME.CENTER), device, site or the center
    category: str  # packages, services, ports, files, users, audit, logs, time,
    #                replication, backups, isolation, policy, drift, routing, links
    name: str  # what was checked, short and specific
    ok: bool
    expected: str = ""
    observed: str = ""
    evidence: str = ""  # command output or file excerpt the verdict rests on
    skipped: str = ""  # why not checked (not applicable here); counted as skipped
    error: str = ""  # why it could not be observed; the verdict is then error

    def __post_init__(self) -> None:
        if self.error:
            self.ok = False  # an error is never a pass

    @classmethod
    def errored(cls, target: str, category: str, name: str, cause: str,
                expected: str = "", evidence: str = "") -> Check:
        """A check that could not observe: its cause is the error and what was seen."""
        cause = cause.strip() or "no cause given"
        return cls(target, category, name, False, expected, f"error: {cause}"[:500],
                   evidence, error=cause[:500])

    @property
    def verdict(self) -> Verdict:
        if self.error:
            return Verdict.error
        if self.skipped:
            return Verdict.skipped
        return Verdict.passed if self.ok else Verdict.failed

    @property
    def message(self) -> str:
        if self.error:
            return f"{self.name}: error: {self.error}"
        if self.skipped:
            return f"{self.name}: skipped: {self.skipped}"
        seen = f"expected {self.expected}, observed {self.observed}" \
            if self.expected or self.observed else self.verdict.value
        return f"{self.name}: {seen}"

    @property
    def evidence_text(self) -> str:
        return self.evidence

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"verdict": self.verdict.value}


@dataclass
class VerifyReport(ResultSet[Check]):
    """A center's checks; ``failures`` (failed or errors), ``ok`` and ``counts()`` are
    every result set's (pesdc.results.ResultSet)."""

    dc: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def results(self) -> list[Check]:
        return self.checks

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.verdict is Verdict.error]

    def by_target(self) -> dict[str, list[Check]]:
        out: dict[str, list[Check]] = {}
        for c in self.checks:
            out.setdefault(c.target, []).append(c)
        return out

    def status(self) -> dict[str, str]:
        """target -> pass / fail / error (for colouring the center's picture)."""
        out = {}
        for t, cs in self.by_target().items():
            verdicts = {c.verdict for c in cs}
            out[t] = "error" if Verdict.error in verdicts else \
                "fail" if Verdict.failed in verdicts else "pass"
        return out
