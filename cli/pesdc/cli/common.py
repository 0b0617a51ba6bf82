"""Shared pieces of the click commands: loading a topology and reporting problems."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from pesdc.model import LoadResult, validate
from pesdc.model.diagnostics import printable
from pesdc.model.schema import DataCenter, Tier
from pesdc.model.tree import CenterError, Topology

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class TerminalConsole(Console):
    """A rich Console that shows control characters in the strings it prints as escapes.

    Rich passes ESC and the C1 controls through, so a name or message holding
    ``\\x1b]0;...`` would drive the terminal; every string rich prints, table cells
    included, goes through ``render_str``."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text), **kwargs)


def print_report(result: LoadResult, fmt: str = "text", quiet_ok: bool = False) -> None:
    report = result.report
    if fmt == "json":
        click.echo(report.to_json())
        print_notes(result)
        return
    for d in report.sorted():
        click.echo(d.format(), err=True)
    print_notes(result)
    if report.diagnostics or not quiet_ok:
        n_dc = len(result.topology.datacenters)
        click.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) "
                   f"in {len(result.topology.files)} file(s), {n_dc} data center(s)",
                   err=True)


def print_notes(result: LoadResult) -> None:
    """Facts about the load that are no problem (no tree root, ...), on stderr."""
    for note in result.notes:
        click.echo(f"note: {printable(note)}", err=True)


def defaults_applied(result: LoadResult, center: str) -> list[str]:
    """The defaults files applied to a center, in order, its own file marked as such;
    for display (file names escaped, ``printable``)."""
    dc = result.topology.datacenters.get(center)
    own = dc._src[0] if dc is not None else None
    return [printable(f"{f} (its own defaults:)" if f == own else f)
            for f in result.defaults_applied.get(center, [])]


def load_or_exit(paths: tuple[Path, ...], fmt: str = "text") -> LoadResult:
    """Validate; on any error print every problem and exit 1 (commands need a valid model)."""
    result = validate(list(paths))
    if not result.report.ok:
        print_report(result, fmt)
        sys.exit(1)
    for d in result.report.sorted():
        click.echo(d.format(), err=True)
    print_notes(result)
    return result


def pick_center(topo: Topology, name: str | None, tier: Tier | None = None) -> DataCenter:
    """``--dc``: the center named, or the only one of its own (of ``tier``); a usage
    error listing the centers otherwise (Topology.pick_center)."""
    try:
        return topo.pick_center(name, tier)
    except CenterError as exc:
        raise click.UsageError(str(exc)) from None


def center_name(topo: Topology, name: str | None) -> str:
    """The center a lab, push or verify command works on: the one named, or the only
    city center of its own."""
    return pick_center(topo, name, Tier.city).name
