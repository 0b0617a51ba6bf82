"""The one shape of a result in pesdc: a target, a verdict, a message, the evidence.

Every judgement pesdc makes is a :class:`Result`: verify's checks
(:class:`pesdc.verify.checks.Check`), the audit's outcomes
(:class:`pesdc.audit.result.Outcome`) and what an executor (pyinfra, Ansible, netmiko)
did to one host (:class:`HostResult`). Each keeps the fields its own reports and
journal need; all of them answer ``target``, ``verdict`` (one of
:class:`pesdc.verdict.Verdict`, ``error`` included), ``message``, ``evidence_text``
and ``failing`` the same way. A collection of them (verify's report, an executor's
run) is a :class:`ResultSet`: counted, failing and ``ok`` alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

from pesdc.verdict import FAILING, Verdict, tally


class Result:
    """One verdict on one target. Subclasses are dataclasses; ``target`` is a field of
    theirs (or a property), ``verdict`` and ``message`` are derived from their fields."""

    __slots__ = ()
    target: str  # a host (NAME.CENTER), device, zone pair, link, site or the center

    @property
    def verdict(self) -> Verdict:
        raise NotImplementedError

    @property
    def message(self) -> str:
        """The verdict in one line, in English."""
        raise NotImplementedError

    @property
    def evidence_text(self) -> str:
        """What the verdict rests on (command output, file excerpt, ...), as text."""
        raise NotImplementedError

    @property
    def failing(self) -> bool:
        """A failure or an error: what makes a command exit non-zero."""
        return self.verdict in FAILING


R = TypeVar("R", bound=Result)


class ResultSet(Generic[R]):
    """Results of one run: verify's report, an executor's run."""

    __slots__ = ()

    @property
    def results(self) -> Sequence[R]:
        raise NotImplementedError

    def counts(self) -> Counter[Verdict]:
        return tally(r.verdict for r in self.results)

    @property
    def failures(self) -> list[R]:
        """Results that failed or could not observe (errors): what makes the run fail."""
        return [r for r in self.results if r.failing]

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class HostResult(Result):
    """What an executor did to one host: passed when it converged, failed otherwise."""

    host: str  # NAME.CENTER
    engine: str  # pyinfra, ansible, netmiko, testinfra, ...
    ok: bool
    changed: int = 0  # operations (or config lines) that changed something
    changes: list[str] = field(default_factory=list)  # what changed, human readable
    error: str | None = None  # why it failed (unreachable, command failed, ...)
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:  # type: ignore[override]  # the host is the target
        return self.host

    @property
    def verdict(self) -> Verdict:
        return Verdict.passed if self.ok else Verdict.failed

    @property
    def message(self) -> str:
        if not self.ok:
            return self.error or "failed"
        return f"{self.changed} change(s)" if self.changed else "no change"

    @property
    def evidence_text(self) -> str:
        return "\n".join(self.changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult(ResultSet[HostResult]):
    action: str  # plan, apply, verify, ...
    engine: str
    hosts: list[HostResult] = field(default_factory=list)

    @property
    def results(self) -> list[HostResult]:
        return self.hosts

    @property
    def failed(self) -> list[HostResult]:
        return [h for h in self.hosts if not h.ok]

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)
