"""`pesdc new city|province`: a new center file from the tree's conventions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pesdc.cli.common import CONTEXT
from pesdc.cli.language import _, cli_language
from pesdc.model.diagnostics import printable
from pesdc.scaffold import Request, ScaffoldError, create

USAGE_EXIT = 2  # bad input, as click's own usage errors


@click.group(context_settings=CONTEXT)
def new() -> None:
    """Start a new center file in a tree, from the tree's conventions."""


def _fail(exc: ScaffoldError) -> None:
    for p in exc.problems:
        message, hint = p.text(_, cli_language())
        click.echo(f"{printable(p.where)}: error {p.rule}: {printable(message)}", err=True)
        if hint:
            click.echo("    " + _("hint: {hint}").format(hint=printable(hint)), err=True)
    sys.exit(USAGE_EXIT)


@new.command()
@click.argument("name")
@click.option("--parent", required=True, metavar="PROVINCE", help="Its province center.")
@click.option("--stage", required=True, metavar="N", help="Consolidation stage: 1, 2 or 3.")
@click.option("--division-code", "code", required=True, metavar="CODE",
              help="GB/T 2260 code of the prefecture-level city, e.g. 370700.")
@click.option("--tree", type=click.Path(path_type=Path), default=None,
              help="A file or folder inside the tree (default: the current folder).")
@click.option("--title-zh", default=None, help="Its Chinese title (default from NAME).")
@click.option("--title-en", default=None, help="Its English title (default from NAME).")
def city(name: str, parent: str, stage: str, code: str, tree: Path | None,
         title_zh: str | None, title_en: str | None) -> None:
    """Write NAME.yaml beside its province's file: a full city center (zones, isolation,
    servers, databases, devices, municipal network, uplink) whose address plan is free
    in the whole tree. It is validated and rendered with the tree in a scratch copy
    first; on any problem nothing is written (exit 2).
    """
    _run(Request(name, code, parent, stage, tree, title_zh, title_en, "city"))


@new.command()
@click.argument("name")
@click.option("--division-code", "code", required=True, metavar="CODE",
              help="GB/T 2260 code of the province, e.g. 410000.")
@click.option("--tree", type=click.Path(path_type=Path), default=None,
              help="A file or folder inside the tree (default: the current folder).")
@click.option("--title-zh", default=None, help="Its Chinese title (default from NAME).")
@click.option("--title-en", default=None, help="Its English title (default from NAME).")
def province(name: str, code: str, tree: Path | None, title_zh: str | None,
             title_en: str | None) -> None:
    """Write NAME/NAME.yaml at the tree's root: a province center under the tree's
    ministry (zones, isolation, servers, databases, devices, the uplink to the ministry)
    whose address plan is free in the whole tree. Validated and rendered with the tree
    in a scratch copy first; on any problem nothing is written (exit 2).
    """
    _run(Request(name, code, None, None, tree, title_zh, title_en, "province"))


def _run(req: Request) -> None:
    name = req.name
    try:
        done = create(req)
    except ScaffoldError as exc:
        _fail(exc)
        return
    shown = os.path.relpath(done.path)
    click.echo(_("wrote {file}: address plan {block}, uplink {uplink}").format(
        file=printable(shown), block=done.block, uplink=done.uplink))
    if done.parent_file is not None:
        click.echo(_("edited {file}:").format(file=printable(os.path.relpath(
            done.parent_file))))
        for what in done.edits:
            click.echo(f"  {printable(what)}")
    for d in done.warnings:
        click.echo(d.format(cli_language()), err=True)
    root = os.path.relpath(done.root)
    click.echo(_("next: pesdc validate {root}; pesdc render {file} -o OUT; "
                 "pesdc lab up {root} --dc {name}").format(
                     root=printable(root), file=printable(shown), name=name))
