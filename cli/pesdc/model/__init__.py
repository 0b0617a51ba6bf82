"""The topology model: schema, loading, the tree."""

from __future__ import annotations

from pathlib import Path

from pesdc.model.diagnostics import Diagnostic, Report, Severity
from pesdc.model.loader import LoadResult, load
from pesdc.model.tree import Topology

__all__ = ["Diagnostic", "LoadResult", "Report", "Severity", "Topology", "load", "validate"]


def validate(paths: list[Path] | list[str], only: list[str] | None = None) -> LoadResult:
    """Load and check a topology: every problem at once, each with its line."""
    from pesdc.rules.registry import run_rules

    result = load(paths)
    result.report.extend(list(run_rules(result.topology, only)))
    result.locator.fill(result.report.diagnostics)
    return result
