"""`pesdc stage check|plan|rehearse` and `pesdc diff`: consolidation stages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from pesdc.cli.common import (
    TerminalConsole,
    load_tree,
    pick_center,
    print_located,
    print_report,
)
from pesdc.cli.language import _, cli_language
from pesdc.formats import format_option
from pesdc.model import LoadResult, load, validate
from pesdc.model.diagnostics import Marked
from pesdc.model.schema import Tier

console = TerminalConsole(stderr=True)
STAGE_RULE_IDS = ("PES004", "PES005", "PES006", "PES007")


def _load(paths: tuple[Path, ...], what: str) -> LoadResult:
    """Load a topology; the stage rules may fail (that is what stages are about), any
    other error stops the command with every problem printed."""
    result = load_tree(paths)
    other = [d for d in result.report.errors if d.rule not in STAGE_RULE_IDS]
    if other:
        result.report.diagnostics = [d for d in result.report.diagnostics
                                     if d.rule not in STAGE_RULE_IDS]
        print_report(result)
        click.echo(_("pesdc {what}: the topology has errors besides the stage rules; fix "
                     "them first").format(what=what), err=True)
        sys.exit(1)
    return result


def _city(result: LoadResult, dc: str | None) -> str:
    from pesdc.stages.check import cities

    picked = pick_center(result.topology, dc, Tier.city)
    if picked.tier is not Tier.city or picked.hosted:
        names = ", ".join(c.name for c in cities(result.topology)) or _("none")
        raise click.UsageError(_("{name!r} is not a city center here; cities: {names}").format(
            name=picked.name, names=names))
    return picked.name


def _shown(what: object) -> str:
    """A library's message in the command line's language where it carries its template
    (Marked, or an exception raised with one)."""
    text = what.args[0] if isinstance(what, Exception) and what.args else what
    return text.text(cli_language()) if isinstance(text, Marked) else str(what)


@click.group()
def stage() -> None:
    """Consolidation stages: check, plan and rehearse a city's move to the next one."""


@stage.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option(text="table")
def check(paths: tuple[Path, ...], fmt: str) -> None:
    """Which stage each city meets today; for the next stage, every unmet requirement
    with the file and line to change."""
    from pesdc.stages.check import check_all

    loaded = load_tree(paths, check=load)
    if not loaded.report.ok:
        loaded.locator.fill(loaded.report.diagnostics)
        print_report(loaded, "json" if fmt == "json" else "text")
        sys.exit(1)
    in_view = {dc.name for dc in loaded.topology.in_view()}
    results = [r for r in check_all(loaded.topology, loaded.locator) if r.name in in_view]
    if fmt == "json":
        from pesdc.formats import echo
        from pesdc.formats.stage_check import build

        echo("stage-check", build(results))
        return
    out = TerminalConsole()
    lang = cli_language()
    table = Table(title=_("consolidation stages"))
    for col in (_("city"), _("declared"), _("meets"), _("next"), _("unmet for next")):
        table.add_column(col)
    for r in results:
        blocking = [q for q in r.requirements if q.blocking]
        meets = str(r.meets) if r.meets else "[red]" + _("none") + "[/]"
        if r.declared and r.meets < r.declared:
            meets = f"[red]{r.meets}[/] " + _("(declares {stage})").format(stage=r.declared)
        table.add_row(r.name, str(r.declared or "-"), meets, str(r.next or "-"),
                      str(len(blocking)))
    out.print(table)
    for r in results:
        if not r.requirements:
            continue
        title = (_("{city}: for stage {stage}").format(city=r.name, stage=r.next) if r.next
                 else _("{city}: housekeeping").format(city=r.name))
        t = Table(title=title, show_lines=False)
        for col in (_("where"), _("rule"), _("what"), _("problem"), _("fix")):
            t.add_column(col, overflow="fold")
        for q in r.requirements:
            where = f"{q.file}:{q.line}" if q.line else q.file
            what = _(q.what)
            message, hint = q.text(lang)
            t.add_row(where, q.rule, what if q.blocking else _("{what} (warning)").format(
                what=what), message, hint)
        print_located(out, [q.diagnostic() for q in r.requirements], t)


@stage.command("plan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", help="The city (default: the only city center).")
@click.option("--to", "to_stage", type=click.IntRange(1, 3), required=True,
              help="The target stage.")
@click.option("--target", "target_path", type=click.Path(path_type=Path),
              help="A second topology (file or folder) that is the target; the moves are "
                   "read from it instead of derived from the rules.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the runbook here.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md",
              show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--write-target", "write_target", type=click.Path(path_type=Path),
              help="Write the target topology tree (the city after the move) into DIR.")
@click.option("--lab", "lab_name", default=None, help="Lab name used in the commands.")
@click.option("--live", "live", metavar="PROFILE", default=None,
              help="The city's connection profile named in the commands on the real center "
                   "(default: CITY.targets.yaml).")
def plan_cmd(paths: tuple[Path, ...], dc: str | None, to_stage: int,
             target_path: Path | None, output: Path | None, fmt: str, lang: str,
             write_target: Path | None, lab_name: str | None, live: str | None) -> None:
    """An ordered runbook for the move of a city to stage N."""
    from pesdc.stages import runbook
    from pesdc.stages.target import StageError, derive, write_target_tree

    loaded = _load(paths, "stage plan")
    city = _city(loaded, dc)
    target_topo = None
    if target_path is not None:
        target_topo = _load((target_path,), "stage plan --target").topology
    try:
        plan = derive(loaded.topology, city, to_stage, target_topo)
    except StageError as exc:
        click.echo(_("pesdc stage plan: {error}").format(error=_shown(exc)), err=True)
        sys.exit(1)
    doc = runbook.build(loaded.topology, plan, lang, " ".join(map(str, paths)),
                        lab_name or city, live or "")
    text = runbook.render(doc, fmt)
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(_("pesdc stage plan: cannot write {path}: {reason}").format(
                path=output, reason=exc.strerror), err=True)
            sys.exit(1)
        console.print(_("runbook: {path} ({moves} server move(s), {flows} flow(s) to open, "
                        "rooms to decommission: {rooms})").format(
                            path=output, moves=len(plan.moves), flows=len(plan.flows),
                            rooms=", ".join(plan.rooms_decommissioned) or _("none")))
    else:
        click.echo(text, nl=False)
    if write_target:
        try:
            city_file = write_target_tree(loaded.topology, plan, write_target)
        except OSError as exc:
            click.echo(_("pesdc stage plan: cannot write {path}: {reason}").format(
                path=write_target, reason=exc), err=True)
            sys.exit(1)
        check = validate([write_target])
        if not check.report.ok:
            print_report(check)
            click.echo(_("pesdc stage plan: the target written to {path} does not "
                         "validate").format(path=write_target), err=True)
            sys.exit(1)
        console.print(_("target topology: {path} (validates)").format(path=city_file))
    if plan.problems:
        for p in plan.problems:
            console.print("[yellow]" + _("blocking:") + f"[/] {_shown(p)}")


@stage.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", help="The city (default: the only city center).")
@click.option("--to", "to_stage", type=click.IntRange(1, 3), required=True)
@click.option("--lab", "lab_name", metavar="NAME",
              help="The lab to rehearse in (required: a rehearsal runs in a lab only).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
@click.option("--inject-failure", type=click.Choice(["restore-target-stopped",
                                                     "checksum-corrupted"]),
              hidden=True, help="Make the migration step fail (rollback rehearsal).")
def rehearse(paths: tuple[Path, ...], dc: str | None, to_stage: int, lab_name: str | None,
             as_json: bool, inject_failure: str | None) -> None:
    """Rehearse the move in the lab: bring up, apply, migrate, cut over, verify; roll
    back on any failed step."""
    import os

    from pesdc.stages.rehearse import rehearse as run
    from pesdc.stages.target import StageError

    if lab_name is None:
        click.echo(_("pesdc stage rehearse: refused: a rehearsal connects to the hosts of a "
                     "lab; say which: --lab NAME (a real center's steps are the runbook's "
                     "commands with --live PROFILE: pesdc stage plan). Nothing was "
                     "contacted."), err=True)
        sys.exit(2)
    if os.geteuid() != 0:
        click.echo(_("pesdc stage rehearse: the lab needs root"), err=True)
        sys.exit(2)
    loaded = _load(paths, "stage rehearse")
    city = _city(loaded, dc)
    lab = lab_name
    try:
        from pesdc.cli.reporting import reporter

        with reporter() as progress:  # stderr: a bar, or a flushed line per step
            res = run(loaded.topology, [str(p) for p in paths], city, to_stage, lab,
                      lambda m: console.print(f"[bold]{m}[/]"), inject_failure, progress)
    except StageError as exc:
        click.echo(_("pesdc stage rehearse: {error}").format(error=_shown(exc)), err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(res.as_dict(), indent=1, ensure_ascii=False))
    else:
        out = TerminalConsole()
        table = Table(title=_("rehearse {city}: stage {old} -> {new} in lab {lab}").format(
            city=city, old=res.from_stage, new=res.to_stage, lab=lab))
        for col in (_("step"), _("result"), "s", _("detail")):
            table.add_column(col, overflow="fold")
        for s in res.steps:
            table.add_row(s.step, "[green]ok[/]" if s.ok else "[red]FAILED[/]",
                          f"{s.seconds:g}", s.detail[:600])
        out.print(table)
        for db, d in res.data.items():
            for tname, v in d.get("before", {}).items():
                out.print(_("{db} {table}: {rows} rows, md5 {md5} (before)").format(
                    db=db, table=tname, rows=v["rows"], md5=v["md5"]))
        if res.ok:
            out.print("[green]PASS[/]: " + _("{city} rehearsed to stage {stage}").format(
                city=city, stage=res.to_stage))
        else:
            out.print(f"[red]FAILED[/]: {res.failure}")
            if res.rolled_back:
                out.print(_("rollback: ") + (
                    "[green]" + _("previous stage restored, data equal") + "[/]"
                    if res.rollback_ok else "[red]FAILED[/]"))
    sys.exit(0 if res.ok else 1)


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def diff(old: Path, new: Path, fmt: str) -> None:
    """What changes between two topology versions (files or folders), object by object."""
    from pesdc.stages.diff import diff as compute
    from pesdc.stages.diff import format_text

    topos = []
    for p in (old, new):
        loaded = load([p])
        if not loaded.report.ok:
            loaded.locator.fill(loaded.report.diagnostics)
            print_report(loaded, "json" if fmt == "json" else "text")
            click.echo(_("pesdc diff: {path} cannot be read as a topology").format(path=p),
                       err=True)
            sys.exit(1)
        topos.append(loaded.topology)
    changes = compute(topos[0], topos[1])
    if fmt == "json":
        click.echo(json.dumps({"old": str(old), "new": str(new),
                               "changes": [c.as_dict() for c in changes]}, indent=1,
                              ensure_ascii=False))
    else:
        click.echo(format_text(changes, _))
