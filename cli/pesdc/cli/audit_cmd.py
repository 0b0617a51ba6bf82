"""`pesdc audit`: graded protection (GB/T 22239-2019 level 3) with evidence, for auditors."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pesdc.cli.common import load_or_exit, pick_center
from pesdc.cli.language import _, cli_language
from pesdc.model.schema import Tier

if TYPE_CHECKING:
    from pesdc.audit.catalog import Catalog
    from pesdc.audit.result import AuditReport
    from pesdc.model.tree import Topology


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", help="The center (default: the only city center).")
@click.option("--all", "all_centers", is_flag=True,
              help="Static audit of every center of the tree: a summary per center "
                   "(json or md).")
@click.option("--workers", type=click.IntRange(0, 64), metavar="N",
              help="With --all: how many centers are audited at once, each in a forked "
                   "process (default: one per CPU, at most 8; 1: in this process).")
@click.option("--static", "static", is_flag=True,
              help="From the topology and the rendered configurations only (the default).")
@click.option("--lab", "lab_name", metavar="LAB",
              help="Static, plus evidence collected from the hosts and Linux gear of LAB.")
@click.option("--live", "live", metavar="PROFILE",
              type=click.Path(path_type=Path, dir_okay=False),
              help="Static, plus evidence from the hosts and Linux gear of the live center "
                   "of this connection profile, through its bastion (pinned keys; the "
                   "deploy account with passwordless sudo).")
@click.option("--limit", multiple=True, metavar="SERVER",
              help="With --lab/--live: collect evidence from these servers only.")
@click.option("--format", "fmt", type=click.Choice(["html", "json", "junit", "md"]),
              default="md", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report here (default: standard output).")
@click.option("--waivers", type=click.Path(path_type=Path, dir_okay=False),
              help="Waivers YAML (id, justification, approver, expires).")
@click.option("--profile", type=click.Path(path_type=Path, dir_okay=False),
              help="Audit profile YAML overriding rule parameters (e.g. password length).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True,
              help="The audit date (waiver expiry is judged against it).")
@click.option("--fail-under", type=click.FloatRange(0, 100),
              help="Exit 1 when the overall score is below this.")
def audit(paths: tuple[Path, ...], dc: str | None, all_centers: bool, workers: int | None,
          static: bool,
          lab_name: str | None, live: Path | None, limit: tuple[str, ...], fmt: str,
          lang: str, output: Path | None,
          waivers: Path | None, profile: Path | None, today: dt.datetime | None,
          fail_under: float | None) -> None:
    """Audit a center against MLPS 2.0 level 3: every item 符合 / 部分符合 / 不符合 /
    不适用 / 人工核查 with evidence, a score per family and overall."""
    from pesdc.audit.catalog import CatalogError, load_catalog
    from pesdc.audit.engine import AuditOptions, run_audit
    from pesdc.audit.waivers import load_waivers
    from pesdc.lab.errors import LabError

    if sum(bool(x) for x in (static, lab_name, live)) > 1:
        raise click.UsageError(_("choose one of --static, --lab LAB, --live PROFILE"))
    if workers is not None and not all_centers:
        raise click.UsageError(_("--workers is for --all (one center is audited in one "
                                 "process)"))
    if all_centers:
        import gc

        # The loaded tree is a large graph of objects that all stay alive until the
        # command ends: the cyclic collector, back on after loading, would scan all of
        # it once more (a third of a second on the national tree) and free nothing.
        gc.disable()
    loaded = load_or_exit(paths)
    topo = loaded.topology
    if all_centers:
        if lab_name or live or dc:
            raise click.UsageError(_("--all is a static audit of every center (no --dc, "
                                     "--lab or --live)"))
        _audit_all(topo, profile, fmt, output, workers or 0)
        return
    center = pick_center(topo, dc, Tier.city)
    name = center.name
    if center.hosted:
        raise click.UsageError(_("{name} has no center of its own (hosted by {host}): "
                                 "audit {host}").format(name=name, host=center.hosted_by))
    day = today.date() if today else dt.date.today()
    try:
        catalog = load_catalog(profile)
        waived = load_waivers(waivers, catalog, day) if waivers else []
    except CatalogError as exc:
        click.echo(f"pesdc audit: {exc}", err=True)
        sys.exit(2)
    mode = "lab" if lab_name else "live" if live else "static"
    target = None
    if live is not None:
        from pesdc.cli.targeting import live_target_or_exit

        target = live_target_or_exit("audit", topo, live, name)
    opts = AuditOptions(mode=mode, lab=lab_name, target=target, limit=list(limit),
                        today=day, waivers=waived)
    try:
        if lab_name:
            from pesdc.lab.enter import reexec_inside
            from pesdc.lab.group import lab_for

            opts.lab = lab_name = lab_for(lab_name, name)  # a multi-center lab: its member
            reexec_inside(lab_name)  # every lab connection from the controller namespace
        from pesdc.cli.reporting import reporter

        with reporter() as progress:  # stderr: a bar, or a flushed line per step
            report = run_audit(topo, name, catalog, opts, progress=progress)
    except LabError as exc:
        click.echo(f"pesdc audit: {exc.text(cli_language())}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"pesdc audit: {exc}", err=True)
        sys.exit(2)
    finally:
        if target is not None:
            from pesdc.targets.target import close

            close(target)
    _write(report, catalog, topo, fmt, lang, output)
    _summarise(report, name, mode, output)
    # An audit that could not observe is not a finished assessment: it fails.
    if report.error_rules() or (fail_under is not None and (report.overall or 0) < fail_under):
        sys.exit(1)


def _write(report: AuditReport, catalog: Catalog, topo: Topology, fmt: str, lang: str,
           output: Path | None) -> None:
    """The report in its format, to ``output`` or the standard output."""
    from pesdc.audit import report as rp

    if fmt == "html":
        text = rp.html_report(report, catalog, topo, lang)
    elif fmt == "json":
        text = rp.json_report(report, catalog)
    elif fmt == "junit":
        text = rp.junit_report(report, catalog, lang)
    else:
        text = rp.md_report(report, catalog, lang)
    if output:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(_("pesdc audit: cannot write {path}: {error}").format(
                path=output, error=exc.strerror or exc), err=True)
            sys.exit(2)
    else:
        click.echo(text, nl=False)


def _summarise(report: AuditReport, name: str, mode: str, output: Path | None) -> None:
    """The one-line summary, the waiver notes and the rules not judged, on stderr."""
    counts = report.counts()
    # The conclusion and the counts' names are the report's keys (excellent, pass, ...),
    # the same in every language: what a script reading stderr greps for.
    capped = (_(" (high risk: {rules})").format(rules=", ".join(report.high_risk))
              if report.high_risk else "")
    click.echo(_("audit {center} ({mode}): overall {overall}, conclusion {grade}").format(
        center=name, mode=mode, overall=report.overall, grade=report.grade)
        + f"{capped}; " + ", ".join(f"{k} {v}" for k, v in counts.items())
        + _("; findings: {rules}").format(rules=", ".join(report.failed_rules())
                                           or _("none"))
        + (f" -> {output}" if output else ""), err=True)
    for note in report.waiver_notes:
        click.echo(f"audit: {note}", err=True)
    errors = report.error_rules()
    if errors:
        click.echo(_("audit: ERROR: {count} rule(s) could not be judged (no evidence "
                     "observed): {rules}").format(count=len(errors), rules=", ".join(errors)),
                   err=True)


def _audit_all(topo: object, profile: Path | None, fmt: str, output: Path | None,
               workers: int = 0) -> None:
    import json
    import time

    from pesdc.audit.catalog import CatalogError, load_catalog
    from pesdc.audit.engine import audit_all

    try:
        catalog = load_catalog(profile)
    except CatalogError as exc:
        click.echo(f"pesdc audit: {exc}", err=True)
        sys.exit(2)
    started = time.monotonic()
    rows = audit_all(topo, catalog, workers=workers)  # type: ignore[arg-type]
    took = round(time.monotonic() - started, 1)
    if fmt == "json":
        text = json.dumps({"centers": rows, "seconds": took}, ensure_ascii=False,
                          indent=1) + "\n"
    else:
        lines = ["| center | overall | conclusion | high risk | fail | partial | findings |",
                 "|---|---|---|---|---|---|---|"]
        for r in rows:
            c = r["counts"]
            lines.append(f"| {r['dc']} | {r['overall']} | {r['grade']} | "
                         f"{', '.join(r['high_risk'])} | {c['fail']} | "  # type: ignore
                         f"{c['partial']} | {', '.join(r['failed_rules'])} |")  # type: ignore
        text = "\n".join(lines) + "\n"
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    click.echo(_("audit: {count} centers in {seconds} s").format(count=len(rows),
                                                                  seconds=took), err=True)
