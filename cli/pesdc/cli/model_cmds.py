"""Commands on the topology model: validate, schema, rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pesdc.cli.common import defaults_applied, load_tree, print_report
from pesdc.cli.language import _
from pesdc.model import parsecache
from pesdc.model.schema import DataCenter

PATHS = click.argument("paths", nargs=-1, required=True,
                       type=click.Path(path_type=Path))


@click.command()
@PATHS
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one document for machines.")
@click.option("--rule", "only", multiple=True, metavar="ID",
              help="Run only these rules (schema checks always run).")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list, per data center, the defaults files applied, in order.")
@click.option("--no-cache", is_flag=True,
              help="Parse every file: read and write no entry of the parse cache.")
def validate(paths: tuple[Path, ...], fmt: str, only: tuple[str, ...],
             verbose: bool, no_cache: bool) -> None:
    """Check topology files or folders; report every problem with file:line:column.

    Exit 0 when there is no error (warnings do not fail), 1 otherwise.
    """
    if no_cache:
        parsecache.disable()
    result = load_tree(paths, list(only) or None)
    print_report(result, fmt)
    if verbose:
        focus = result.topology.focus  # empty: every center, invalid ones included
        for center in sorted(c for c in result.defaults_applied if not focus or c in focus):
            files = defaults_applied(result, center)
            click.echo(_("defaults applied to {center}: {files}").format(
                center=center, files=", ".join(files) or _("none")), err=True)
    if fmt == "text" and result.report.ok:
        click.echo("ok")
    sys.exit(0 if result.report.ok else 1)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a topology file, for editors (YAML language server)."""
    dc = DataCenter.model_json_schema()
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pesdc topology file",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "datacenter": {"$ref": "#/$defs/DataCenter"},
            "defaults": {"type": "object", "description":
                         "devices/servers/sites/links: all, kinds, roles, groups"},
        },
        "$defs": {**dc.pop("$defs", {}), "DataCenter": dc},
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command()
def rules() -> None:
    """List every validation rule id with what it checks."""
    from pesdc.rules.registry import LOADER_RULES, all_rules
    from pesdc.scaffold.problems import SCAFFOLD_RULES

    rows = [(rid, name, summary) for rid, (name, summary) in LOADER_RULES.items()]
    # pesdc new's refusals: not run on a topology, listed so every id is in one place
    rows += [(rid, name, summary) for rid, (name, summary) in SCAFFOLD_RULES.items()]
    rows += [(r.id, r.name, r.summary) for r in all_rules().values()]
    for rid, name, summary in sorted(rows):
        click.echo(f"{rid:8} {name:32} {_(summary)}")  # summaries: language.rule_summaries
