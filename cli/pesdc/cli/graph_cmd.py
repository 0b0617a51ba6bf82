"""pesdc graph: draw one data center (zones, isolation, devices, municipal network)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pesdc.cli.common import load_or_exit, pick_center
from pesdc.cli.language import _
from pesdc.i18n import LANGS

FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".pdf": "pdf"}


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The file to write; its suffix picks the format: .svg, .png, .pdf, .dot.")
@click.option("--dc", "dc_name", metavar="NAME", default=None,
              help="The data center to draw (needed when the path holds several).")
@click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True,
              help="Language of titles and labels (zh: Chinese).")
def graph(paths: tuple[Path, ...], output: Path, dc_name: str | None, lang: str) -> None:
    """Draw a data center like the source's figures: zones as boxes, isolation between
    them, border firewalls, core switches and routers, the municipal network as a tree.
    """
    from pesdc.graph import center_graph

    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise click.UsageError(_("cannot tell the format of {name!r}: use one of "
                                 "{formats}").format(name=output.name,
                                                     formats=", ".join(sorted(FORMATS))))
    topology = load_or_exit(paths).topology
    dc = pick_center(topology, dc_name)
    g = center_graph(topology, dc.name, lang)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        output.write_text(g.source, encoding="utf-8")
    else:
        import graphviz

        try:
            data = g.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            click.echo(_("error: Graphviz 'dot' is not installed (Debian: apt-get install "
                         "graphviz), or write a .dot file"), err=True)
            sys.exit(1)
        output.write_bytes(data)
    click.echo(_("wrote {path} ({center})").format(path=output, center=dc.name))
