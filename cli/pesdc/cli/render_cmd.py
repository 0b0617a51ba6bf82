"""`pesdc render`: inventories and configurations from a topology."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import click

from pesdc.cli.common import load_or_exit, print_problems, require_centers
from pesdc.cli.language import _, cli_language
from pesdc.kinds import kind_of
from pesdc.model.diagnostics import Report
from pesdc.render import PARTS, render_tree
from pesdc.render.context import hostname
from pesdc.render.output import OutputError, diff_tree, remediation, write_tree


def _running_config(running_dir: Path, dc: str, dev: str, fname: str) -> Path | None:
    """Accepted layouts: DIR/<dc>/<device>/<file>, DIR/<dc>/<device>.cfg,
    DIR/<device>.<dc>.cfg (what `pesdc` backups and most collectors write)."""
    for p in (running_dir / dc / dev / fname, running_dir / dc / f"{dev}.cfg",
              running_dir / f"{dev}.{dc}.cfg"):
        if p.is_file():
            return p
    return None


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder.")
@click.option("--dc", "names", multiple=True, help="Only these data centers.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Show what would change in OUTPUT; write nothing. Exit 1 if anything "
                   "would change.")
@click.option("--against", "running_dir", type=click.Path(path_type=Path, exists=True,
                                                         file_okay=False),
              help="Folder of running configurations: write per-device remediation "
                   "commands to OUTPUT/remediation/.")
@click.option("--only", "parts", multiple=True, type=click.Choice(PARTS),
              help="Render only these parts (default: all).")
@click.option("--force", is_flag=True,
              help="Write into a non-empty OUTPUT that pesdc did not create (it has no "
                   "MANIFEST); nothing already in it is deleted.")
def render(paths: tuple[Path, ...], out: Path, names: tuple[str, ...], show_diff: bool,
           running_dir: Path | None, parts: tuple[str, ...], force: bool) -> None:
    """Render inventories, device configurations and server files into OUTPUT."""
    loaded = load_or_exit(paths)
    topo = loaded.topology
    require_centers(topo, names)
    gc.disable()  # a large, long-lived object graph: the collector would only rescan it
    names = names or topo.focus  # a file or folder of a tree: its centers
    result = render_tree(topo, list(names) or None, tuple(parts) or PARTS)
    if result.problems:
        report = Report(result.problems)
        loaded.locator.fill(report.diagnostics)
        print_problems(report.sorted())
        click.echo(_("{n} render error(s); nothing written").format(n=len(report.errors)),
                   err=True)
        sys.exit(1)
    if running_dir is not None:
        for dc_name in (list(names) or sorted(topo.datacenters)):
            dc = topo.datacenters[dc_name]
            for dev in dc.devices:
                kind = kind_of(dev)
                for fname in kind.config_files:
                    intended = result.files.get(f"devices/{dc.name}/{dev.name}/{fname}")
                    if intended is None:
                        continue
                    src = _running_config(running_dir, dc.name, dev.name, fname)
                    running = src.read_text("utf-8", errors="replace") if src else ""
                    rem = remediation(kind.name, running, intended, fname)
                    key = f"remediation/{dc.name}/{dev.name}/{fname}"
                    result.files[key] = rem or f"# {hostname(dc, dev.name)}: no change\n"
    try:
        if show_diff:
            _show_diff(out, result.files)
        else:
            _write(out, result.files, force)
    except OutputError as exc:
        click.echo(_("error: {error}").format(error=exc.text(cli_language())), err=True)
        sys.exit(1)


def _show_diff(out: Path, files: dict[str, str]) -> None:
    changes = diff_tree(out, files)
    for ch in changes:
        if ch.status == "kept":
            click.echo(_("{path}: edited since pesdc wrote it; would be kept").format(
                path=out / ch.path), err=True)
        click.echo(ch.diff, nl=False)
    summary = {s: sum(1 for c in changes if c.status == s)
               for s in ("added", "changed", "removed", "kept")}
    click.echo(_("{added} added, {changed} changed, {removed} removed").format(
        added=summary["added"], changed=summary["changed"], removed=summary["removed"]),
        err=True)
    sys.exit(1 if summary["added"] + summary["changed"] + summary["removed"] else 0)


def _write(out: Path, files: dict[str, str], force: bool) -> None:
    res = write_tree(out, files, force)
    for rel in res.kept:
        click.echo(_("{path}: no longer rendered but edited since pesdc wrote it: kept "
                     "(delete it yourself if it is not needed)").format(path=out / rel),
                   err=True)
    click.echo(_("rendered {n} file(s) into {path}: {written} written, {unchanged} "
                 "unchanged, {removed} removed").format(
                     n=len(files), path=out, written=res.written, unchanged=res.unchanged,
                     removed=res.removed), err=True)
