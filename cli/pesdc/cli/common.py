"""Shared pieces of the click commands: loading a topology and reporting problems."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from pesdc.cli.language import _, cli_language
from pesdc.model import LoadResult, validate
from pesdc.model.diagnostics import Diagnostic, Marked, printable
from pesdc.model.loader import tree_root
from pesdc.model.schema import DataCenter, Tier
from pesdc.model.tree import CenterError, Topology

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class TerminalConsole(Console):
    """A rich Console that shows control characters in the strings it prints as escapes.

    Rich passes ESC and the C1 controls through, so a name or message holding
    ``\\x1b]0;...`` would drive the terminal; every string rich prints, table cells
    included, goes through ``render_str``."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text), **kwargs)


def print_report(result: LoadResult, fmt: str = "text", quiet_ok: bool = False) -> None:
    report = result.report
    if fmt == "json":
        click.echo(report.to_json())
        print_notes(result)
        return
    print_problems(report.sorted())
    print_notes(result)
    if report.diagnostics or not quiet_ok:
        topo = result.topology
        n_dc = len(topo.in_view())
        of_tree = (_(" of {total} in the tree").format(total=len(topo.datacenters))
                   if topo.focus else "")
        click.echo(_("{errors} error(s), {warnings} warning(s) in {files} file(s), "
                     "{centers} data center(s)").format(
                         errors=len(report.errors), warnings=len(report.warnings),
                         files=len(topo.files), centers=n_dc) + of_tree, err=True)


def print_located(console: Console, diagnostics: list[Diagnostic], table: Any) -> None:
    """Problems with a file location: ``table`` (built by the caller) on a terminal;
    otherwise (a pipe, a file, an editor, CI) one ``file:line:column: severity rule:
    message`` line each, which a table wrapped at 80 columns would split."""
    if console.is_terminal:
        console.print(table)
        return
    lang = cli_language()
    for d in diagnostics:
        click.echo(d.one_line(lang))


def print_problems(diagnostics: list[Diagnostic]) -> None:
    """Problems on stderr, each as one ``file:line:column: severity rule: message`` line
    (as compilers print them), its hint after it on an indented line of its own."""
    lang = cli_language()
    for d in diagnostics:
        click.echo(d.format(lang), err=True)


def _opened(paths: tuple[Path, ...]) -> tuple[list[Path], bool]:
    """The paths to load: a file or folder inside a tree (a tree marker at or above it)
    stands for the tree's root, so its center sees its parent, its defaults and the
    centers its flows name; whether any path was so opened."""
    load: list[Path] = []
    opened = False
    for p in paths:
        root = tree_root(p if p.is_dir() else p.parent) if p.exists() else None
        if root is not None and p.resolve() != root:
            opened = True
            p = root
        if all(p.resolve() != q.resolve() for q in load):
            load.append(p)
    return load, opened


def _within(f: Path, scope: list[Path]) -> bool:
    real = f.resolve()
    return any(real == p or p in real.parents for p in scope)


def _focus(result: LoadResult, scope: list[Path]) -> tuple[str, ...]:
    """The centers of the paths given: their own file is in them, or a defaults file
    given applies to them."""
    topo = result.topology
    in_scope = {d for d, f in topo.files.items() if _within(f, scope)}
    return tuple(name for name in topo.datacenters
                 if topo.dc_file.get(name) in in_scope
                 or in_scope.intersection(result.defaults_applied.get(name, [])))


def _about_focus(result: LoadResult, scope: list[Path]) -> list[Diagnostic]:
    """The problems of the paths given: in their files, in a defaults file applied to
    their centers, or not in a file of the tree at all (a path that does not exist)."""
    topo = result.topology
    applied = {f for name in topo.focus for f in result.defaults_applied.get(name, [])}
    return [d for d in result.report.diagnostics
            if d.file not in topo.files or d.file in applied
            or _within(topo.files[d.file], scope)]


def _invalid_parents(result: LoadResult, root: str) -> list[Diagnostic]:
    """A center of the path whose parent or host fails the schema is not valid either:
    said at its own file (the rules take an invalid center's name as known)."""
    topo = result.topology
    out = []
    for name in topo.focus:
        dc = topo.datacenters[name]
        for key in ("parent", "hosted_by"):
            other = getattr(dc, key)
            if other in topo.invalid_datacenters:
                out.append(Diagnostic(
                    "REF001", _("data center {name!r} ({key}) is in the tree but does not "
                                "validate").format(name=other, key=key),
                    topo.dc_file[name], ("datacenter", key),
                    _("fix its problems: pesdc validate {root}").format(root=root)))
    result.locator.fill(out)
    return out


def load_tree(paths: tuple[Path, ...], only: list[str] | None = None,
              check: Callable[[list[Path]], LoadResult] | None = None) -> LoadResult:
    """Load ``paths`` with ``check`` (default: validate, rules ``only``). A file or folder
    inside a tree opens the whole tree: its problems and centers are the ones reported
    (``Topology.focus``), a problem elsewhere in the tree is counted in a note. A path
    outside any tree loads as it is."""
    load, opened = _opened(paths)
    result = validate(load, only) if check is None else check(load)
    if not opened:
        return result
    scope = [p.resolve() for p in paths]
    roots = " ".join(printable(os.path.relpath(p)) for p in load)
    result.topology.focus = _focus(result, scope)
    kept = _about_focus(result, scope)
    hidden = len(result.report.diagnostics) - len(kept)
    result.report.diagnostics = kept + _invalid_parents(result, roots)
    if hidden:
        result.notes.append(_("{n} problem(s) elsewhere in the tree, not of the path given, "
                              "are not shown: pesdc validate {root}").format(n=hidden,
                                                                               root=roots))
    return result


def print_notes(result: LoadResult) -> None:
    """Facts about the load that are no problem (no tree root, ...), on stderr."""
    lang = cli_language()
    for note in result.notes:
        text = note.text(lang) if isinstance(note, Marked) else note
        click.echo(_("note: {note}").format(note=printable(text)), err=True)


def defaults_applied(result: LoadResult, center: str) -> list[str]:
    """The defaults files applied to a center, in order, its own file marked as such;
    for display (file names escaped, ``printable``)."""
    dc = result.topology.datacenters.get(center)
    own = dc._src[0] if dc is not None else None
    return [printable(f"{f} (its own defaults:)" if f == own else f)
            for f in result.defaults_applied.get(center, [])]


def load_or_exit(paths: tuple[Path, ...], fmt: str = "text") -> LoadResult:
    """Validate; on any error print every problem and exit 1 (commands need a valid model)."""
    result = load_tree(paths)
    if not result.report.ok:
        print_report(result, fmt)
        sys.exit(1)
    print_problems(result.report.sorted())
    print_notes(result)
    return result


def require_centers(topo: Topology, names: tuple[str, ...]) -> None:
    """A usage error naming every center of ``names`` the tree does not hold."""
    unknown = [n for n in names if n not in topo.datacenters]
    if unknown:
        raise click.UsageError(_("unknown data center(s): {unknown}; known: {known}").format(
            unknown=", ".join(unknown), known=", ".join(sorted(topo.datacenters))))


def pick_center(topo: Topology, name: str | None, tier: Tier | None = None) -> DataCenter:
    """``--dc``: the center named, or the only one of its own (of ``tier``); a usage
    error listing the centers otherwise (Topology.pick_center)."""
    try:
        return topo.pick_center(name, tier)
    except CenterError as exc:
        raise click.UsageError(exc.text(cli_language())) from None


def center_name(topo: Topology, name: str | None) -> str:
    """The center a lab, push or verify command works on: the one named, or the only
    city center of its own."""
    return pick_center(topo, name, Tier.city).name
