"""``pesdc plan`` / ``pesdc apply`` (format ``plan``) and ``pesdc net plan`` / ``pesdc
net apply`` (format ``net-plan``) with ``--format json``: what the run did per host."""

from __future__ import annotations

from typing import Any

from pesdc.results import RunResult


def build_plan(result: RunResult, center: str, seconds: float,
               journal_error: str | None) -> dict[str, Any]:
    """The body of ``plan``: the provisioning run (plan, or apply) of a center's servers."""
    return {"action": result.action, "engine": result.engine, "center": center,
            "seconds": round(seconds, 2), "ok": result.ok, "changed": result.changed,
            "journal_error": journal_error, "hosts": [h.as_dict() for h in result.hosts]}


def build_net(result: RunResult) -> dict[str, Any]:
    """The body of ``net-plan``: the run (plan, or apply) on the network devices."""
    return {"action": result.action, "engine": result.engine, "ok": result.ok,
            "changed": result.changed, "interrupted": getattr(result, "interrupted", None),
            "hosts": [h.as_dict() for h in result.hosts]}
