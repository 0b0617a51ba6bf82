"""`pesdc report national`: many centers' verify and audit results on one page."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from pesdc.cli.common import print_report
from pesdc.cli.language import _
from pesdc.model import load


@click.group()
def report() -> None:
    """Roll-ups of results written by other commands."""


@report.command()
@click.argument("results", type=click.Path(path_type=Path, file_okay=False))
@click.option("--tree", "tree", multiple=True, required=True,
              type=click.Path(path_type=Path, exists=True),
              help="The topologies (ministry, provinces, cities): hierarchy and stages.")
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html",
              show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the HTML page (the JSON holds both).")
@click.option("--stale-days", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Evidence older than this is marked stale.")
@click.option("--now", type=click.DateTime(["%Y-%m-%d"]), hidden=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False))
def national(results: Path, tree: tuple[Path, ...], fmt: str, lang: str, stale_days: float,
             now: object, output: Path | None) -> None:
    """Gather the verify and audit results of many centers (RESULTS/CENTER/verify.xml,
    RESULTS/CENTER/audit.json) on the ministry, province and city tree."""
    from pesdc.report.evidence import read_results
    from pesdc.report.page import html_page, json_text
    from pesdc.report.rollup import Options, rollup

    # the command's own lines in the CLI's language (--lang of pesdc); --lang here is
    # the page's
    loaded = load(list(tree))
    if not loaded.report.ok:
        loaded.locator.fill(loaded.report.diagnostics)
        print_report(loaded)
        sys.exit(1)
    ev = read_results(results, set(loaded.topology.datacenters))
    if ev.problems:
        for p in ev.problems:
            click.echo(_("pesdc report national: {problem}").format(problem=p), err=True)
        click.echo(_("pesdc report national: {n} result file(s) unusable; fix or remove "
                     "them").format(n=len(ev.problems)), err=True)
        sys.exit(2)
    stamp = time.mktime(now.timetuple()) if now is not None else None  # type: ignore[attr-defined]
    data = rollup(loaded.topology, loaded.locator, ev, Options(stale_days, stamp))
    text = json_text(data) if fmt == "json" else html_page(data, lang)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    c = data["counts"]
    click.echo(_("report national: {n} centers, {none} without evidence, {ready} "
                 "city(ies) ready for their next stage").format(
        n=c["centers"], none=c["none"], ready=len(data["ready"])), err=True)
