"""Commands on the topology model: validate, schema, rules."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from pathlib import Path

import click

from pesdc.cli.common import defaults_applied, load_tree, print_report
from pesdc.cli.language import _
from pesdc.model import LoadResult, modelcache, parsecache
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
              help="Parse and validate every file: read and write no entry of the caches.")
def validate(paths: tuple[Path, ...], fmt: str, only: tuple[str, ...],
             verbose: bool, no_cache: bool) -> None:
    """Check topology files or folders; report every problem with file:line:column.

    Exit 0 when there is no error (warnings do not fail), 1 otherwise.
    """
    if no_cache:
        parsecache.disable()
    # The cyclic garbage collector stays off until the loaded tree is gone: a national
    # tree is a large graph of live objects that a collection after loading (and the
    # one at exit) would scan in full to free nothing (0.6 s CPU of a cached run).
    # _check returns with the tree freed by reference counting.
    was_enabled = gc.isenabled()
    gc.disable()
    kept: list[LoadResult] = []
    try:
        # Centers from the validated-model cache leave unread what the steps over the
        # whole tree do not read; a rule judging one comes to read it (modelcache).
        with modelcache.lazily():
            code = _check(paths, fmt, only, verbose, kept)
    finally:
        if was_enabled:
            gc.enable()
    if _the_executable():
        # The process ends with this command: freeing the loaded tree object by object
        # (0.2-0.3 s CPU for a national tree) and the interpreter's teardown are work
        # nobody waits for. Everything said is flushed first; nothing else is pending
        # (the caches' entries are written whole before this).
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _the_executable() -> bool:
    """This process is the pesdc command itself (``pesdc ...`` or ``python -m pesdc``),
    not a program or a test that invoked the command in its own process."""
    from pesdc.cli import entry

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return (spec is not None and spec.name == "pesdc.__main__") or \
        getattr(main, "run", None) is entry.run


def _check(paths: tuple[Path, ...], fmt: str, only: tuple[str, ...], verbose: bool,
           kept: list[LoadResult]) -> int:
    """validate's work; its exit status. The result stays in ``kept``."""
    result = load_tree(paths, list(only) or None)
    kept.append(result)
    print_report(result, fmt)
    if verbose:
        focus = result.topology.focus  # empty: every center, invalid ones included
        for center in sorted(c for c in result.defaults_applied if not focus or c in focus):
            files = defaults_applied(result, center)
            click.echo(_("defaults applied to {center}: {files}").format(
                center=center, files=", ".join(files) or _("none")), err=True)
    if fmt == "text" and result.report.ok:
        click.echo("ok")
    return 0 if result.report.ok else 1


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
