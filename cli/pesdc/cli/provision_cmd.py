"""`pesdc plan`, `pesdc apply`: provision a center's servers (`pesdc journal`: journal_cmd).

An apply holds its center (:mod:`pesdc.locking`): a second apply of the same center
(and lab) refuses at once, naming who holds it, with exit code 3 (``EXIT_BUSY``). A
state directory that cannot take the lock or the journal (a full disk) fails the
command with the cause; entries the journal could not take are printed to stderr."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from pesdc.cli.common import TerminalConsole, center_name, load_or_exit
from pesdc.cli.language import _, cli_language
from pesdc.cli.reporting import reporter
from pesdc.cli.targeting import secret_options
from pesdc.formats import format_option
from pesdc.i18n import N_
from pesdc.lab.errors import LabError
from pesdc.results import RunResult

console = TerminalConsole(stderr=True)

EXIT_BUSY = 3  # another run holds the center
NOT_ON_LAB = N_("  (not applied on lab hosts: kernel-global)")  # controls' note


def _access(lab: str | None, target: Any = None) -> Any:
    """A live target's access (through its bastion), else the lab's."""
    from pesdc.provision.engine import Access

    if target is not None and target.live:
        return Access(target.identity, target.known_hosts, target.lab, target)
    from pesdc.lab.enter import access
    acc = access(lab or "")
    return Access(acc.identity, acc.known_hosts, lab)


def _deploy_pubkeys(lab: str | None, target: Any = None) -> list[str]:
    from pesdc.provision.engine import deploy_pubkeys

    if target is not None and target.live and target.identity is not None \
            and target.identity.with_suffix(".pub").is_file():
        # The key this run logs in with is the one the deploy account admits.
        return [target.identity.with_suffix(".pub").read_text().strip()]
    try:
        return deploy_pubkeys(lab)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except LabError as exc:  # inside a lab (PESDC_INSIDE_LAB) whose namespace is gone
        raise click.UsageError(exc.text(cli_language())) from None


def _run(action: str, paths: tuple[Path, ...], dc: str | None, lab: str | None,
         limit: tuple[str, ...], as_json: bool, engine_name: str = "pyinfra",
         live: Path | None = None, yes: bool = False) -> tuple[RunResult, str | None]:
    """The run's result, and why the journal could not take it (None: it did)."""
    from pesdc.lab.enter import reexec_inside
    from pesdc.provision import engine

    loaded = load_or_exit(paths)
    if live is not None:
        from pesdc.cli.targeting import live_target_or_exit

        target = live_target_or_exit(action, loaded.topology, live, dc)
        center = target.center
        names = engine.select(loaded.topology, center, list(limit))
        if not names:
            raise click.UsageError(_no_match(limit, center))
        return _run_live(action, loaded, center, names, target, as_json, engine_name, yes)
    center = center_name(loaded.topology, dc)
    if lab is not None:  # "": --lab without a name
        try:
            from pesdc.lab.group import lab_for

            # Refused here (exit 2, nothing contacted or journaled) when the lab does not
            # hold the center; a multi-center lab: its member for the center.
            lab = lab_for(lab or None, center)
            reexec_inside(lab)  # no return unless already inside the controller namespace
        except LabError as exc:
            click.echo(f"pesdc {action}: {exc.text(cli_language())}", err=True)
            sys.exit(2)
    names = engine.select(loaded.topology, center, list(limit))
    if not names:
        raise click.UsageError(_no_match(limit, center))
    if lab:
        names = _in_lab(lab, center, names, limit)
    if action == "apply":
        # Taken here, once inside the controller namespace (the re-exec would close it).
        with holding(center, lab, action, as_json):
            return _run_held(action, loaded, center, names, lab, as_json, engine_name)
    return _run_held(action, loaded, center, names, lab, as_json, engine_name)


def _no_match(limit: tuple[str, ...], center: str) -> str:
    return _("--limit {limit} matches no server of {center}").format(limit=" ".join(limit),
                                                                     center=center)


def _in_lab(lab: str, center: str, names: list[str], limit: tuple[str, ...]) -> list[str]:
    """The selected servers a member of a multi-center lab runs (a far center kept light
    with --servers runs only some): the others are said, and are not run. One named
    outright in --limit that is not in the lab is an error."""
    from pesdc.lab.group import group_of

    grp = group_of(lab)
    only = grp.servers.get(center) if grp is not None else None
    if not only:
        return names
    out = [n for n in names if n in only]
    absent = [n for n in names if n not in only]
    named = [n for n in absent if n in limit]
    if named:
        click.echo(_("pesdc: {names}: not in lab {lab} (kept light with --servers; pesdc lab "
                     "status names those left out)").format(names=", ".join(named), lab=lab),
                   err=True)
        sys.exit(2)
    if absent:
        click.echo(_("pesdc: {count} selected server(s) of {center} are not in lab {lab} "
                     "(kept light) and are not run: {names}").format(
                         count=len(absent), center=center, lab=lab, names=", ".join(absent)),
                   err=True)
    if not out:
        click.echo(_("pesdc: none of the selected servers of {center} is in lab {lab}").format(
            center=center, lab=lab), err=True)
        sys.exit(2)
    return out


def _run_live(action: str, loaded: Any, center: str, names: list[str], target: Any,
              as_json: bool, engine_name: str, yes: bool) -> tuple[RunResult, str | None]:
    """A live run through the bastion: an apply shows its plan and is confirmed (or
    ``--yes``) before anything changes, and holds the center for both."""
    from pesdc.targets.target import close

    try:
        if action != "apply":
            return _run_held(action, loaded, center, names, target.lab, as_json, engine_name,
                             target)
        with holding(center, target.lab, action, as_json, target):
            if not yes:
                planned, _journal = _run_held("plan", loaded, center, names, target.lab, as_json,
                                       engine_name, target)
                from pesdc.cli.targeting import confirm_live

                if not planned.ok:
                    click.echo(_("pesdc apply: the plan failed on {n} host(s) (above): "
                                 "nothing was changed").format(n=len(planned.failed)),
                               err=True)
                    return planned, None
                confirm_live("apply", target, _("{ops} operation(s) to apply on {n} host(s) "
                                                "(the plan above)").format(
                                                    ops=planned.changed,
                                                    n=len(planned.hosts)), yes)
            return _run_held(action, loaded, center, names, target.lab, as_json, engine_name,
                             target)
    finally:
        close(target)


@contextlib.contextmanager
def holding(center: str, lab: str | None, action: str, as_json: bool,
            target: Any = None) -> Iterator[None]:
    """Hold the center for the block; refuse (exit 3) when another run holds it, fail
    (exit 1) when the state directory (or, live, the bastion) cannot take the lock.
    A live target's lock is on its bastion (every operator's common ground), a lab's
    (and a run without a target) on this machine (:mod:`pesdc.locking`)."""
    from pesdc.durable import StateWriteError
    from pesdc.locking import BastionLockError, CenterBusy, bastion_lock, center_lock

    try:
        if target is not None and target.live:
            try:
                ctx = bastion_lock(target, center, action)
                ctx.__enter__()
            except BastionLockError as exc:
                click.echo(_("pesdc {action}: the center lock on the bastion: {error}; "
                             "nothing was changed").format(action=action, error=exc),
                           err=True)
                sys.exit(1)
            try:
                yield
            finally:
                ctx.__exit__(None, None, None)
            return
        with center_lock(center, lab, action):
            yield
    except CenterBusy as exc:
        click.echo(_("pesdc {action}: refused: {reason}").format(action=action, reason=exc),
                   err=True)
        if as_json:
            click.echo(json.dumps({"action": action, "center": center, "lab": lab,
                                   "ok": False, "refused": str(exc), "lock": str(exc.path),
                                   "holder": exc.holder.as_dict() if exc.holder else None},
                                  indent=1))
        sys.exit(EXIT_BUSY)
    except StateWriteError as exc:
        click.echo(_("pesdc {action}: {error}; nothing was applied").format(action=action,
                                                                            error=exc),
                   err=True)
        if as_json:
            click.echo(json.dumps({"action": action, "center": center, "lab": lab,
                                   "ok": False, "error": str(exc)}, indent=1))
        sys.exit(1)


def _record(result: RunResult, center: str, lab: str | None, target: Any = None,
            dc: Any = None) -> str | None:
    """Journal the run (and send it to the center's log servers, with ``dc``); the error
    (and the entries on stderr, so that none is lost) when the state directory could not
    take them. A live run's entry that did not reach a log server is an error too (the
    change stands, the local entry is written); a lab run's is said on stderr only."""
    from pesdc.durable import StateWriteError
    from pesdc.journal import entries, record

    lines = entries(result, center, lab, target)
    try:
        done = record(result, center, lab, lines, target=target, dc=dc)
        for err in done.send_errors:
            click.echo(f"pesdc {result.action}: {err}", err=True)
        return "; ".join(done.send_errors) if done.must_fail else None
    except StateWriteError as exc:
        click.echo(_("pesdc {action}: the change journal was not written: {error}. The "
                     "{count} entries it should hold follow; the hosts were changed as "
                     "shown:").format(action=result.action, error=exc, count=len(lines)),
                   err=True)
        for line in lines:
            click.echo(line, err=True)
        return str(exc)


def _run_held(action: str, loaded: Any, center: str, names: list[str], lab: str | None,
              as_json: bool, engine_name: str = "pyinfra", target: Any = None
              ) -> tuple[RunResult, str | None]:
    from pesdc.provision import engine
    from pesdc.provision.secrets import backup_keypair, provisioning_secrets

    _priv, backup_pub = backup_keypair(center)
    specs = engine.build_specs(loaded.topology, center, names, bool(lab),
                               _deploy_pubkeys(lab, target), backup_pub)
    # A plan needs them too: what the standby's password file would hold is compared.
    secrets = provisioning_secrets(center)
    started = time.monotonic()
    with reporter() as progress:  # on stderr: a bar on a terminal, else flushed lines
        progress.note(_("{action} {center}: {count} hosts, engine {engine}").format(
            action=action, center=center, count=len(specs), engine=engine_name))
        if engine_name == "ansible":  # the same HostSpecs, applied by the Ansible roles
            from pesdc.provision import ansible_engine

            result = ansible_engine.run(action, loaded.topology, center, specs, lab, target,
                                        progress=progress)
        else:
            result = engine.run(action, specs, _access(lab, target), secrets, progress)
    return _report(result, center, lab, action, as_json, time.monotonic() - started,
                   target, loaded.topology.datacenters[center])


def _report(result: RunResult, center: str, lab: str | None, action: str, as_json: bool,
            elapsed: float, target: Any = None, dc: Any = None
            ) -> tuple[RunResult, str | None]:
    """Journal an apply (a copy to the center's log servers), print the result; why the
    journal could not take it."""
    journal_error = _record(result, center, lab, target, dc) if action == "apply" else None
    if as_json:
        from pesdc.formats import echo
        from pesdc.formats.runs import build_plan

        echo("plan", build_plan(result, center, elapsed, journal_error))
    else:
        _print(result, center, elapsed)
        if journal_error:
            TerminalConsole().print("[red]" + _("the change journal was not written:")
                                    + f"[/] {journal_error}")
    return result, journal_error


def _print(result: RunResult, center: str, elapsed: float) -> None:
    out = TerminalConsole()
    verb = _("would change") if result.action == "plan" else _("changed")
    table = Table(title=f"{result.action} {center} ({result.engine}, {elapsed:.1f} s)")
    for col in (_("host"), _("result"), verb, _("what")):
        table.add_column(col)
    for h in result.hosts:
        what = h.error if h.error else "; ".join(h.changes[:6]) + (
            _(" (+{n} more)").format(n=len(h.changes) - 6) if len(h.changes) > 6 else "")
        table.add_row(h.host, "[green]ok[/]" if h.ok else "[red]FAILED[/]", str(h.changed),
                      what or "-")
    out.print(table)
    if result.failed:
        label = _("{n} host(s) failed:").format(n=len(result.failed))
        out.print("[red]" + label + "[/]" + ("" if label.endswith("：") else " ")
                  + ", ".join(f"{h.host} ({h.error})" for h in result.failed))
    elif result.action == "plan":
        out.print(_("all {n} hosts ok, {ops} operation(s) would change").format(
            n=len(result.hosts), ops=result.changed))
    else:
        out.print(_("all {n} hosts ok, {ops} operation(s) changed").format(
            n=len(result.hosts), ops=result.changed))


_common = [
    click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path)),
    click.option("--dc", help="The center (default: the only city center)."),
    click.option("--lab", "lab", is_flag=False, flag_value="", default=None,
                 help="Provision the hosts of this lab (from its controller namespace); "
                      "--lab alone: the only lab up. A lab that does not hold the center "
                      "is refused."),
    click.option("--live", "live", metavar="PROFILE",
                 type=click.Path(path_type=Path, dir_okay=False),
                 help="Provision the live center of this connection profile, through its "
                      "bastion (pesdc targets init; then pesdc targets trust)."),
    click.option("--limit", multiple=True,
                 help="Only these servers (name, NAME.CENTER, role, zone or group)."),
]


def _opts(f: Any) -> Any:
    for deco in reversed(_common):
        f = deco(f)
    return format_option(json_flag=True, boolean=True)(f)


_provisioning_secrets = secret_options(
    "Secrets (replication_password, backup_private_key): PESDC_SECRET_<NAME> wins, then "
    "this file (YAML name: value strings, mode 600, or the same encrypted with "
    "ansible-vault), else a value generated once in the state directory "
    "(secrets/CENTER/).")


@click.command()
@_opts
@_provisioning_secrets
def plan(paths: tuple[Path, ...], dc: str | None, lab: str | None, live: Path | None,
         limit: tuple[str, ...], as_json: bool, secrets_file: Path | None,
         vault_password_file: Path | None) -> None:
    """Per host, what an apply would change (changes nothing)."""
    from pesdc.cli.targeting import require_target
    from pesdc.provision.secrets import load_for_cli

    require_target("plan", lab, live)
    # lab "": --lab without a name; chosen, and checked, once the center is known (_run).
    load_for_cli("plan", secrets_file, vault_password_file, lab)  # bad: exit 2
    res, _journal = _run("plan", paths, dc, lab, limit, as_json, live=live)
    sys.exit(0 if res.ok else 1)


@click.command()
@_opts
@click.option("--engine", "engine_name", type=click.Choice(["pyinfra", "ansible"]),
              default="pyinfra", show_default=True)
@click.option("--yes", is_flag=True, help="Live: do not ask before changing (the plan is "
                                          "reviewed already).")
@click.option("--check", is_flag=True, help="Run the plan only: change nothing.")
@_provisioning_secrets
def apply(paths: tuple[Path, ...], dc: str | None, lab: str | None, live: Path | None,
          limit: tuple[str, ...], as_json: bool, engine_name: str, yes: bool,
          check: bool, secrets_file: Path | None, vault_password_file: Path | None) -> None:
    """Bring the servers to the state the topology and graded protection require.
    Live (--live): shows the plan and asks before changing anything (--yes: don't ask)."""
    from pesdc.cli.targeting import require_target
    from pesdc.provision.secrets import load_for_cli

    require_target("apply", lab, live)
    # lab "": --lab without a name; chosen, and checked, once the center is known (_run).
    load_for_cli("apply", secrets_file, vault_password_file, lab)  # bad: exit 2
    if check:
        res, _journal = _run("plan", paths, dc, lab, limit, as_json, live=live)
        sys.exit(0 if res.ok else 1)
    if engine_name == "ansible" and \
            importlib.util.find_spec("pesdc.provision.ansible_engine") is None:
        raise click.ClickException(_("the Ansible engine (pesdc.provision.ansible_engine) "
                                     "is not available in this build"))
    res, journal_error = _run("apply", paths, dc, lab, limit, as_json, engine_name,
                              live=live, yes=yes)
    sys.exit(0 if res.ok and not journal_error else 1)


@click.command()
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help="Language of the titles (default: the command line's, pesdc --lang).")
def controls(lang: str | None) -> None:
    """The host controls the server roles apply, with their GB/T 22239-2019 clauses."""
    from pesdc.i18n import translator
    from pesdc.provision.controls import CONTROLS

    lang = lang or cli_language()
    note = translator(lang).gettext(NOT_ON_LAB)
    for c in CONTROLS:
        title = c.title_zh if lang == "zh" else c.title
        lab = "" if c.lab_safe else note
        click.echo(f"{c.id:14} {c.clause:10} {c.role:11} {title}{lab}")
