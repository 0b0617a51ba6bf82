"""`pesdc verify`: is this center what its topology says? With evidence."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from pesdc.cli.common import TerminalConsole, center_name, load_or_exit
from pesdc.cli.language import _, cli_language
from pesdc.cli.reporting import reporter
from pesdc.cli.targeting import live_option, live_target_or_exit, require_target
from pesdc.lab.errors import LabError
from pesdc.model.tree import Topology
from pesdc.verdict import WORDS, Verdict, summary
from pesdc.verify.checks import VerifyReport
from pesdc.verify.run import PARTS


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", help="The center (default: the only city center).")
@click.option("--lab", "lab_name", is_flag=False, flag_value="", default=None,
              help="Verify this lab of the center (--lab alone: the only lab up; a lab "
                   "that does not hold the center is refused).")
@live_option()
@click.option("--junit", type=click.Path(path_type=Path), help="Write JUnit XML here.")
@click.option("--html", "html_out", type=click.Path(path_type=Path),
              help="Write the HTML page (the center's picture coloured by result) here.")
@click.option("--only", multiple=True, type=click.Choice(PARTS),
              help="Run only these parts (default: all).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="zh", show_default=True,
              help="Language of the HTML picture.")
def verify(paths: tuple[Path, ...], dc: str | None, lab_name: str | None,
           live: Path | None, junit: Path | None, html_out: Path | None,
           only: tuple[str, ...], lang: str) -> None:
    """Check hosts, isolation (real packets), device drift, routing and links, on a lab
    (--lab) or a live center through its bastion (--live PROFILE)."""
    require_target("verify", lab_name, live)
    loaded = load_or_exit(paths)
    name = center_name(loaded.topology, dc)
    from pesdc.verify.report import html_page, junit_xml

    console = TerminalConsole(stderr=True)
    if live is not None:
        report = _verify_live(loaded.topology, name, live, tuple(only) or PARTS, console)
    else:
        from pesdc.lab.enter import reexec_inside
        from pesdc.lab.group import lab_for

        try:
            # --lab alone: the only lab up; refused (exit 2, nothing contacted) when the
            # lab does not hold the center. A multi-center lab: its member.
            lab = lab_for(lab_name or None, name)
            reexec_inside(lab)  # every connection from the lab's controller namespace
            from pesdc.verify.run import verify_lab

            with reporter() as progress:  # stderr: a bar, or a flushed line per check
                progress.note(_("verifying {center} in lab {lab}").format(center=name,
                                                                          lab=lab))
                report = verify_lab(loaded.topology, name, lab, tuple(only) or PARTS,
                                    progress=progress)
        except LabError as exc:
            click.echo(f"pesdc verify: {exc.text(cli_language())}", err=True)
            sys.exit(2)
    if junit:
        junit.write_text(junit_xml(report), encoding="utf-8")
    if html_out:
        html_out.write_text(html_page(report, loaded.topology, lang), encoding="utf-8")
    print_summary(report, name)
    sys.exit(0 if report.ok else 1)


def print_summary(report: VerifyReport, name: str) -> None:
    """The table of verdicts per category, a line per failure or error, PASS or FAIL;
    in the command line's language (ERROR, FAIL and PASS as they are)."""
    by_cat: dict[str, Counter[Verdict]] = {}
    for c in report.checks:
        by_cat.setdefault(c.category, Counter())[c.verdict] += 1
    cli_lang = cli_language()
    table = Table(title=_("verify {center}: {count} checks in {seconds} s").format(
        center=name, count=len(report.checks), seconds=report.seconds))
    columns = (Verdict.passed, Verdict.failed, Verdict.error, Verdict.skipped)
    table.add_column(_("category"))
    for v in columns:
        table.add_column(WORDS["zh" if cli_lang == "zh" else "en"][v])
    style = {Verdict.failed: "red", Verdict.error: "magenta", Verdict.skipped: "yellow"}
    for cat in sorted(by_cat):
        n = by_cat[cat]
        table.add_row(cat, *(f"[{style[v]}]{n[v]}[/]" if n[v] and v in style else str(n[v])
                             for v in columns))
    out = TerminalConsole()
    out.print(table)
    for c in report.failures:
        if c.verdict is Verdict.error:
            out.print(f"[magenta]ERROR[/] {c.target} [{c.category}] {c.name}: "
                      + _("could not observe: {error}").format(error=c.error))
        else:
            out.print(f"[red]FAIL[/] {c.target} [{c.category}] {c.name}: "
                      + _("expected {expected}, observed {observed}").format(
                          expected=c.expected, observed=c.observed))
    counts = report.counts()
    line = summary(counts, cli_lang)
    out.print(f"[green]PASS[/] ({line})" if report.ok else f"[red]FAIL[/] ({line})")


def _verify_live(topo: Topology, name: str, live: Path, parts: tuple[str, ...],
                 console: TerminalConsole) -> VerifyReport:
    """verify on the live center of a profile: no namespace, every connection through
    its bastion with the pinned keys."""
    from pesdc.targets.target import close
    from pesdc.verify.run import verify_live

    target = live_target_or_exit("verify", topo, live, name)
    try:
        with reporter() as progress:  # stderr: a bar, or a flushed line per check
            progress.note(_("verifying {center}, {target}").format(center=name,
                                                                    target=target.label))
            return verify_live(topo, name, target, parts, progress=progress)
    finally:
        close(target)
