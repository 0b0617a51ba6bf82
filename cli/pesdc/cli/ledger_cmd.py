"""`pesdc ledger export|import`: a center's asset ledger (设备台账 / 服务器台账) as XLSX."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pesdc.cli.common import load_or_exit, pick_center
from pesdc.cli.language import _, cli_language


@click.group()
def ledger() -> None:
    """Asset ledger: a center's servers, devices, links and sites as an XLSX workbook."""


@ledger.command(name="export")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", "dc_name", help="The center (default: the only one of its own).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="The workbook to write (.xlsx).")
def export_ledger_cmd(paths: tuple[Path, ...], dc_name: str | None, output: Path) -> None:
    """Write a center's servers, devices (interfaces, static routes), links and sites to
    an XLSX workbook, one sheet each, with the center file's own values.

    A value the center takes from a defaults file is left empty. The same tree gives
    the same bytes.
    """
    from pesdc.durable import StateWriteError
    from pesdc.ledger.export import export_ledger
    from pesdc.model.yamlio import read_yaml

    if output.suffix.lower() != ".xlsx":
        raise click.UsageError(_("the ledger is an .xlsx workbook: name the output "
                                 "FILE.xlsx"))
    topo = load_or_exit(paths).topology
    dc = pick_center(topo, dc_name)
    display = topo.dc_file[dc.name]
    data, _diags = read_yaml(topo.files[display], display)  # loaded just now: it reads
    try:
        export_ledger(data["datacenter"], output)
    except StateWriteError as exc:
        click.echo(_("error: {error}").format(error=exc), err=True)
        sys.exit(1)
    click.echo(_("wrote {file}: {servers} servers, {devices} devices, {links} links, "
                 "{sites} sites of {center}").format(
        file=output, servers=len(dc.servers), devices=len(dc.devices),
        links=len(dc.links), sites=len(dc.sites), center=dc.name))


@ledger.command(name="import")
@click.argument("workbook", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--into", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The center file to update (comments and untouched items kept).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the result here instead (outside any topology tree: checked "
                   "in the place of --into; without --into: a new center file from the "
                   "center and segments sheets, written into its tree).")
def import_ledger_cmd(workbook: Path, into: Path | None, output: Path | None) -> None:
    """Put a ledger's servers, devices, links and sites into a center file.

    Every problem is reported at once as FILE.xlsx:SHEET!ROW:COLUMN, after the checks
    of pesdc validate on the result; the file is written only when there is none.
    """
    from pesdc.durable import StateWriteError
    from pesdc.ledger.importer import import_ledger

    if into is None and output is None:
        raise click.UsageError(_("give --into CENTER.yaml, -o NEW.yaml, or both"))
    if into is None and output is not None and output.exists():
        raise click.UsageError(_("{file} exists: update it with --into {file}").format(
            file=output))
    try:
        result = import_ledger(workbook, into, output)
    except StateWriteError as exc:
        click.echo(_("error: {error}").format(error=exc), err=True)
        sys.exit(1)
    lang = cli_language()
    for cell in result.cells:
        click.echo(cell.format(lang), err=True)
    for d in sorted(result.diagnostics, key=lambda d: (d.file, d.line, d.column)):
        click.echo(d.format(lang), err=True)
    if not result.ok:
        errors = len(result.cells) + sum(d.severity.value == "error"
                                         for d in result.diagnostics)
        click.echo(_("{n} error(s): nothing written").format(n=errors), err=True)
        sys.exit(1)
    if result.checked_as is not None:
        click.echo(_("wrote {file} (outside any topology tree: checked in the place of "
                     "{into}, with its tree)").format(file=result.written,
                                                      into=result.checked_as))
        return
    click.echo(_("wrote {file}").format(file=result.written))
