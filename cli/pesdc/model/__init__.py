"""The topology model: schema, loading, the tree."""

from __future__ import annotations

import gc
from pathlib import Path

from pesdc.model.diagnostics import Diagnostic, Report, Severity
from pesdc.model.loader import LoadResult, load
from pesdc.model.tree import Topology

__all__ = ["Diagnostic", "LoadResult", "Report", "Severity", "Topology", "load", "validate"]


def validate(paths: list[Path] | list[str], only: list[str] | None = None) -> LoadResult:
    """Load and check a topology: every problem at once, each with its line."""
    from pesdc.rules.registry import run_rules

    # Loading builds a large graph of objects that all stay alive; the cyclic garbage
    # collector would scan it again and again and free nothing (40% of a national run).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        result = load(paths)
        result.report.extend(list(run_rules(result.topology, only)))
        result.locator.fill(result.report.diagnostics)
    finally:
        if was_enabled:
            gc.enable()
    return result
