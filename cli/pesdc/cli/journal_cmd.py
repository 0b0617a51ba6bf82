"""`pesdc journal [show|verify]` and `pesdc lock status|break`: the change journal and
the per-center lock (:mod:`pesdc.journal`, :mod:`pesdc.locking`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from pesdc.cli.common import TerminalConsole
from pesdc.cli.language import _
from pesdc.formats import format_option
from pesdc.i18n import N_

_tail = click.option("--tail", type=int, default=20, show_default=True,
                     help="Last N entries (0: all).")
_json = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _show(tail: int, fmt: str) -> None:
    from pesdc.formats import echo
    from pesdc.formats.journal import build_show
    from pesdc.journal import journal_path, read

    rows = read(tail or None)
    if fmt == "json":
        echo("journal-show", build_show(journal_path(), rows, tail or None))
        return
    table = Table(title=str(journal_path()))
    for col in (_("seq"), _("when"), _("who"), _("action"), _("target"), _("host"),
                _("result"), _("changed")):
        table.add_column(col)
    for r in rows:
        if "unreadable" in r:
            table.add_row("?", "?", "?", "?", "?", "?", "[red]" + _("unreadable line {n}").format(
                n=r["unreadable"]) + "[/]", "?")
            continue
        w = r.get("who") or {}
        who = str(w.get("user", "?")) + (_(" (sudo by {user})").format(user=w["sudo_user"])
                                         if w.get("sudo_user") else "")
        target = r.get("target") or (_("lab {name}").format(name=r["lab"]) if r.get("lab")
                                     else "-")
        table.add_row(str(r.get("seq", "-")), str(r.get("when", "?")), who,
                      str(r.get("action", "?")), str(target), str(r.get("host", "?")),
                      str(r.get("result", "?")), str(r.get("changed", "-")))
    out = TerminalConsole()
    out.print(table)
    if not out.is_terminal:  # a pipe, a file, CI: each unreadable line as a problem line
        from pesdc.journal import Problem

        for r in rows:
            if "unreadable" in r:
                click.echo(Problem(r["unreadable"], _("unreadable: not a whole JSON entry "
                                                      "(pesdc journal verify)")
                                   ).one_line(journal_path()), err=True)


@click.group(invoke_without_command=True)
@_tail
@format_option(json_flag=True)
@click.pass_context
def journal(ctx: click.Context, tail: int, fmt: str) -> None:
    """The change journal: who changed what, when, on which target and host
    (`pesdc journal` alone: the last entries, as `pesdc journal show`)."""
    if ctx.invoked_subcommand is None:
        _show(tail, fmt)


@journal.command("show")
@_tail
@format_option(json_flag=True)
def show(tail: int, fmt: str) -> None:
    """The last entries of the journal."""
    _show(tail, fmt)


@journal.command("verify")
@format_option(json_flag=True)
def verify(fmt: str) -> None:
    """Recompute the journal's hash chain: every edited, inserted or removed entry, an
    unreadable line and a cut-off tail, by line. Exit 0 only when it is intact."""
    from pesdc.formats import echo
    from pesdc.formats.journal import build_verify
    from pesdc.journal import verify as run

    res = run()
    if fmt == "json":
        echo("journal-verify", build_verify(res))
    else:
        for p in res.problems:
            click.echo(p.format() if _on_terminal() else p.one_line(res.path), err=True)
        if res.intact:
            click.echo(_("{path}: intact, {n} chained entries").format(path=res.path,
                                                                      n=res.chained)
                       + (_(" (last seq {seq})").format(seq=res.last_seq)
                          if res.last_seq else ""))
        else:
            click.echo(_("{path}: NOT intact: {n} problem(s) above; {entries} entries, "
                         "{chained} chained").format(
                             path=res.path, n=len(res.problems), entries=res.entries,
                             chained=res.chained), err=True)
    sys.exit(0 if res.intact else 1)


def _on_terminal() -> bool:
    """Problems go to stderr: a person reads them there when it is a terminal."""
    return sys.stderr.isatty()


# -- the lock --------------------------------------------------------------------------
@click.group()
def lock() -> None:
    """The per-center lock: who holds a center (status), and breaking a stale one."""


_lock_opts = [
    click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
    click.option("--dc", help="The center (default: the only city center of PATHS)."),
    click.option("--lab", "lab", metavar="NAME", help="The lock of this lab's runs."),
    click.option("--live", "live", metavar="PROFILE",
                 type=click.Path(path_type=Path, dir_okay=False),
                 help="The live center's lock on its bastion (needs PATHS: the topology)."),
    _json,
]


def _lock_options(f: Any) -> Any:
    for deco in reversed(_lock_opts):
        f = deco(f)
    return f


def _center(command: str, paths: tuple[Path, ...], dc: str | None) -> str:
    if dc and not paths:
        return dc
    if not paths:
        raise click.UsageError(_("{command}: give --dc CENTER (or the topology PATHS)").format(
            command=command))
    from pesdc.cli.common import center_name, load_or_exit

    return center_name(load_or_exit(paths).topology, dc)


def _live(command: str, paths: tuple[Path, ...], dc: str | None, live: Path) -> Any:
    if not paths:
        raise click.UsageError(_("{command} --live: give the topology PATHS too").format(
            command=command))
    from pesdc.cli.common import load_or_exit
    from pesdc.cli.targeting import live_target_or_exit

    loaded = load_or_exit(paths)
    target = live_target_or_exit(command, loaded.topology, live, dc)
    return loaded, target


def _close(target: Any) -> None:
    from pesdc.targets.target import close

    close(target)  # the multiplexed bastion connection


# English in --json's note; the text lines show it in the command line's language
_NO_STALE = N_("a local lock cannot be stale: it is a flock, which the kernel frees when "
               "its holder exits (however it ends); a held one has a live holder")


@lock.command("status")
@_lock_options
def status(paths: tuple[Path, ...], dc: str | None, lab: str | None, live: Path | None,
           as_json: bool) -> None:
    """Who holds the center: the bastion's lock (--live) or this machine's."""
    from pesdc.locking import BastionLockError, bastion_status, local_status, lock_path

    if lab is not None and live is not None:
        raise click.UsageError(_("pesdc lock status: give --lab NAME or --live PROFILE, not "
                                 "both"))
    if live is not None:
        _loaded, target = _live("lock status", paths, dc, live)
        try:
            state = bastion_status(target, target.center)
        except BastionLockError as exc:
            click.echo(_("pesdc lock status: {error}").format(error=exc), err=True)
            sys.exit(1)
        finally:
            _close(target)
        if as_json:
            click.echo(json.dumps({"center": state.center, "where": "bastion",
                                   "lock": state.path, "held": state.held,
                                   "stale": state.stale, "idle_seconds": state.idle,
                                   "holder": state.raw}, indent=1))
        else:
            click.echo(state.describe())
        sys.exit(0)
    center = _center("pesdc lock status", paths, dc)
    labs: list[str | None] = [lab] if lab is not None else [None]
    if lab is None:
        d = lock_path(center).parent
        labs += sorted(p.name[len(center) + 5:-5] for p in d.glob(f"{center}.lab-*.lock"))
    rows = []
    for name in labs:
        path, holder, held = local_status(center, name)
        rows.append({"center": center, "lab": name, "where": "local", "lock": str(path),
                     "held": held, "stale": False,
                     "holder": holder.as_dict() if holder else None})
        if not as_json:
            where = (_("center {center} (lab {lab})").format(center=center, lab=name) if name
                     else _("center {center}").format(center=center))
            if held:
                who = holder.describe() if holder else _("a run that has not written its "
                                                         "description (yet)")
                click.echo(_("{where}: held by {who}; lock {path}").format(
                    where=where, who=who, path=path))
            else:
                click.echo(_("{where}: free (lock {path})").format(where=where, path=path))
    if as_json:
        click.echo(json.dumps({"locks": rows, "note": _NO_STALE}, indent=1))
    else:
        click.echo(_("({note}; a live center's lock is on its bastion: {command})").format(
            note=_(_NO_STALE), command="pesdc lock status PATHS --live PROFILE"))


@lock.command("break")
@_lock_options
@click.option("--reason", required=True, help="Why the lock is broken (journaled).")
def break_(paths: tuple[Path, ...], dc: str | None, lab: str | None, live: Path | None,
           as_json: bool, reason: str) -> None:
    """Remove a stale lock (its holder gone) and journal the break, naming the old holder
    and the reason. A live center's lock is on its bastion (--live)."""
    from pesdc.durable import StateWriteError
    from pesdc.journal import append, lock_break_entry
    from pesdc.locking import BastionLockError, bastion_break, local_status

    if not reason.strip():
        raise click.UsageError(_("pesdc lock break: --reason must say why"))
    if lab is not None and live is not None:
        raise click.UsageError(_("pesdc lock break: give --lab NAME or --live PROFILE, not "
                                 "both"))
    if live is None:
        center = _center("pesdc lock break", paths, dc)
        path, holder, held = local_status(center, lab)
        if held:
            who = holder.describe() if holder else _("a live process")
            click.echo(_("pesdc lock break: refused: the local lock {path} is held by {who}. "
                         "{note}: nothing to break; stop that run if it must not "
                         "finish").format(path=path, who=who, note=_(_NO_STALE)), err=True)
            sys.exit(1)
        click.echo(_("pesdc lock break: the local lock {path} is free: nothing to break "
                     "({note}); nothing was journaled").format(path=path, note=_(_NO_STALE)))
        sys.exit(0)
    loaded, target = _live("lock break", paths, dc, live)
    try:
        try:
            was = bastion_break(target, target.center)
        except BastionLockError as exc:
            click.echo(_("pesdc lock break: {error}").format(error=exc), err=True)
            sys.exit(1)
        if not was.held:
            click.echo(_("pesdc lock break: {state}: nothing to break; nothing was "
                         "journaled").format(state=was.describe()))
            sys.exit(0)
        line = lock_break_entry(target.center, target.lab, was.raw, reason, target,
                                f"{was.path} on the bastion")
        try:
            done = append([line], target=target,
                          dc=loaded.topology.datacenters[target.center], lab=target.lab)
        except StateWriteError as exc:
            click.echo(_("pesdc lock break: the lock was broken but the journal was not "
                         "written: {error}. The entry it should hold:").format(error=exc)
                       + f"\n{line}", err=True)
            sys.exit(1)
    finally:
        _close(target)
    seq = done.entries[0][0]
    for err in done.send_errors:
        click.echo(_("pesdc lock break: {error}").format(error=err), err=True)
    if as_json:
        click.echo(json.dumps({"center": was.center, "broken": was.path, "holder": was.raw,
                               "reason": reason, "journal_seq": seq,
                               "send_errors": done.send_errors}, indent=1))
    else:
        click.echo(_("broke the lock of {state}; journaled as entry {seq}").format(
            state=was.describe(), seq=seq))
    sys.exit(1 if done.must_fail else 0)
