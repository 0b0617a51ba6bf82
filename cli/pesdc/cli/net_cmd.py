"""`pesdc net`: diff, push, commit and roll back network gear with netmiko."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from pesdc.cli.common import center_name, load_or_exit
from pesdc.cli.language import _, cli_language
from pesdc.cli.reporting import reporter
from pesdc.cli.targeting import secret_options
from pesdc.formats import format_option
from pesdc.i18n import N_
from pesdc.localized import error_text
from pesdc.model.tree import Topology
from pesdc.results import RunResult


def _limit(values: tuple[str, ...]) -> list[str] | None:
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def _fail(msg: str, code: int = 2) -> None:
    click.echo(f"pesdc net: {msg}", err=True)
    sys.exit(code)


def _enter_lab(lab: str | None, dc: str | None, topo: Topology) -> str | None:
    """Network safety: a lab run re-executes itself in the lab's controller namespace
    (of the center's member, in a multi-center lab). The lab it runs in; a lab that
    does not hold the center is refused before anything is contacted."""
    if lab is None:
        return None
    from pesdc.lab.enter import reexec_inside
    from pesdc.lab.errors import LabError
    from pesdc.lab.group import Group, lab_for

    try:
        grp = Group.load(lab)
        if grp is not None and dc is None:
            raise LabError(N_("lab {lab} holds {centers}: say which with --dc"),
                           lab=lab, centers=", ".join(grp.centers))
        lab = lab_for(lab, center_name(topo, dc))
        reexec_inside(lab)
    except LabError as exc:
        _fail(exc.text(cli_language()))
    return lab


# Exit status of a run stopped by a signal: 128 + the signal number, as a shell reports.
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}


def _state_line(state: str, shown: bool = False) -> str:
    """The state a device was left in, in words: English for the journal, in the command
    line's language when ``shown``."""
    from pesdc.netpush.engine import IN_SYNC, NEW, NOT_STARTED, ROLLED_BACK, UNCHANGED

    words = {NEW: N_("on its new configuration"),
             IN_SYNC: N_("on its new configuration (it already was)"),
             ROLLED_BACK: N_("on its backup (rolled back, checked)"),
             UNCHANGED: N_("on its backup (nothing was pushed)"),
             NOT_STARTED: N_("untouched (not started)")}
    line = words.get(state, state)
    return _(line) if shown and state in words else line


def _report(res: RunResult, as_json: bool) -> None:
    if as_json:
        from pesdc.formats import echo
        from pesdc.formats.runs import build_net

        echo("net-plan", build_net(res))
    else:
        _report_text(res)


def _report_interrupted(res: RunResult) -> None:
    """The last line of an interrupted apply: each device's state (after the journal's
    own lines, so that it stays the last thing said)."""
    interrupted = getattr(res, "interrupted", None)
    if interrupted and res.action == "apply":
        states: dict[str, list[str]] = {}
        for h in res.hosts:
            states.setdefault(_state_line(h.details.get("state", "?"), True), []).append(
                h.host.split(".")[0])
        click.echo(_("pesdc net: interrupted by {signal}: ").format(signal=interrupted)
                   + "; ".join(
            f"{', '.join(hs)} {st}" for st, hs in sorted(states.items())), err=True)


def _report_text(res: RunResult) -> None:
    for h in res.hosts:
        if not h.ok:
            click.secho(f"✗ {h.host}: {h.error}", fg="red")
        elif res.action == "plan":
            n = len(h.details.get("remediation", []))
            click.echo(f"{'~' if n else '='} {h.host}: "
                       + (_("{n} line(s) to push").format(n=n) if n else _("in sync"))
                       + f" ({h.seconds} s)")
            if h.details.get("commit"):  # how apply makes it safe on this device
                click.echo(_("    commit: {how}").format(how=h.details["commit"]))
        else:
            what = (_("{n} line(s) pushed, post-check clean").format(n=h.changed)
                    if h.changed else _("nothing to change"))
            click.echo(f"{'✓' if h.changed else '='} {h.host}: {what} ({h.seconds} s)")
        if res.action == "apply" and h.details.get("state"):
            click.echo(_("    state: {state}").format(
                state=_state_line(h.details["state"], True)))
        diff = h.details.get("diff")
        lines = h.details.get("remediation") or []
        if res.action == "plan" and diff:
            for ln in diff.splitlines():
                click.echo(f"    {ln}")
        elif lines and (res.action == "plan" or not h.ok):
            for ln in lines[:200]:
                click.echo(f"    {ln}")
            if len(lines) > 200:
                click.echo(_("    ... {n} more").format(n=len(lines) - 200))
        if h.details.get("missing_secrets"):
            click.echo(_("    secrets needed by apply: {names}").format(
                names=", ".join(h.details["missing_secrets"])))
        if h.details.get("backup") and res.action == "apply":
            click.echo(_("    backup: {path}").format(path=h.details["backup"]))
    total = len(res.hosts)
    summary = (_("{total} device(s), {lines} line(s) to push, {failed} failed")
               if res.action == "plan" else
               _("{total} device(s), {lines} line(s) pushed, {failed} failed"))
    click.echo(summary.format(total=total, lines=res.changed, failed=len(res.failed)),
               err=True)



def _journal(res: RunResult, center: str, lab: str | None, target: object = None,
             dc: object = None) -> bool:
    """One journal line per device (pesdc journal), the state it was left in included,
    and a ``rollback`` entry per device rolled back; sent to the center's log servers
    with ``dc``. False (and said) when the journal could not be written, or a live run's
    entries did not reach a log server (the push stands)."""
    from pesdc.journal import record

    for h in res.hosts:
        state = h.details.get("state")
        if state and not h.ok:
            h.error = f"{h.error} [state: {_state_line(state)}]"
    try:
        done = record(res, center, lab, target=target, dc=dc)
    except Exception as exc:  # a full state directory: say so, the run's result stands
        click.echo(_("pesdc net: the change journal could not be written: {error}").format(
            error=exc), err=True)
        return False
    for err in done.send_errors:
        click.echo(f"pesdc net: {err}", err=True)
    return not done.must_fail


@click.group()
def net() -> None:
    """Network gear: plan and apply the rendered configuration over SSH (netmiko)."""


_common = [
    click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path)),
    click.option("--dc", help="The center (default: the only city center)."),
    click.option("--lab", "lab", help="Target the lab's stand-ins (run from its controller "
                                       "namespace) instead of the real devices."),
    click.option("--live", "live", metavar="PROFILE",
                 type=click.Path(path_type=Path, dir_okay=False),
                 help="Target the live center of this connection profile, through its "
                      "bastion, its devices' keys pinned (pesdc targets trust)."),
    click.option("--limit", multiple=True, help="Device names or glob patterns "
                                                 "(repeat or comma-separate)."),
    click.option("-v", "--verbose", is_flag=True, help="Log the steps (secrets redacted)."),
]


def _options(f):  # type: ignore[no-untyped-def]
    for deco in reversed(_common):
        f = deco(f)
    return format_option(json_flag=True, boolean=True)(f)


_secret_options = secret_options(
    "Device secrets: a YAML file of name: value strings (mode 600), or the same "
    "encrypted with ansible-vault. PESDC_SECRET_<NAME> wins over it.")


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("paramiko").setLevel(logging.WARNING)


def _live(topo, live: Path | None, dc: str | None):  # type: ignore[no-untyped-def]
    """The live target of ``--live PROFILE`` (None without it)."""
    if live is None:
        return None
    from pesdc.cli.targeting import live_target_or_exit

    return live_target_or_exit("net", topo, live, dc)


@net.command()
@_options
@_secret_options
def plan(paths: tuple[Path, ...], dc: str | None, lab: str | None, live: Path | None,
         limit: tuple[str, ...], as_json: bool, verbose: bool, secrets_file: Path | None,
         vault_password_file: Path | None) -> None:
    """Show, per device, the lines apply would push (read-only)."""
    from pesdc.cli.targeting import require_target
    from pesdc.credentials import load_for_cli
    from pesdc.netpush import NetpushError, SecretError, Secrets, plan_network

    require_target("net plan", lab, live)
    _logging(verbose)
    # The device logins a live plan needs to read the running configurations.
    secrets = Secrets.of(load_for_cli("net plan", secrets_file, vault_password_file, lab))
    loaded = load_or_exit(paths)
    lab = _enter_lab(lab, dc, loaded.topology)
    target = _live(loaded.topology, live, dc)
    name = target.center if target is not None else center_name(loaded.topology, dc)
    try:
        with reporter() as progress:  # stderr: a bar, or a flushed line per device
            res = plan_network(loaded.topology, name, lab, _limit(limit), secrets,
                               live=target, progress=progress)
    except (NetpushError, SecretError) as exc:
        _fail(error_text(exc, cli_language()))
        return
    _report(res, as_json)
    sys.exit(0 if res.ok else 1)


@net.command()
@_options
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Devices at once (never both members of a redundancy pair).")
@_secret_options
@click.option("--yes", is_flag=True, help="Live: do not ask before pushing (the plan is "
                                          "reviewed already).")
@click.option("--check", is_flag=True, help="Show the plan only: push nothing.")
def apply(paths: tuple[Path, ...], dc: str | None, lab: str | None, live: Path | None,
          limit: tuple[str, ...], as_json: bool, verbose: bool, workers: int,
          secrets_file: Path | None, vault_password_file: Path | None, yes: bool,
          check: bool) -> None:
    """Back up, push the remediation, save, post-check; roll back on failure. Live
    (--live): shows the plan and asks before pushing (--yes: don't ask)."""
    from pesdc.cli.provision_cmd import holding
    from pesdc.cli.targeting import require_target
    from pesdc.netpush import NetpushError, SecretError, Secrets, apply_network, plan_network

    require_target("net apply", lab, live)

    _logging(verbose)
    from pesdc.credentials import load_for_cli

    # The environment, then the file (plain or vault); a bad one: one line, exit 2. A lab
    # run hands the values to its re-execution in the environment, never on argv.
    secrets = Secrets.of(load_for_cli("net apply", secrets_file, vault_password_file, lab))
    loaded = load_or_exit(paths)
    lab = _enter_lab(lab, dc, loaded.topology)
    try:
        target = _live(loaded.topology, live, dc)
        name = target.center if target is not None else center_name(loaded.topology, dc)
        if check:
            res = plan_network(loaded.topology, name, lab, _limit(limit), secrets, workers,
                               live=target)
            _report(res, as_json)
            sys.exit(0 if res.ok else 1)
        # The same lock as `pesdc apply`: one change run per center at a time (a second
        # refuses, exit 3, naming who holds it).
        with holding(name, lab if target is None else target.lab, "net apply", as_json,
                     target):
            if target is not None and not yes:
                _confirm_push(loaded.topology, name, limit, secrets, workers, target)
            with reporter() as progress:  # stderr: a bar, or a flushed line per device
                res = apply_network(loaded.topology, name, lab, _limit(limit), workers,
                                    secrets, live=target, progress=progress)
    except (NetpushError, SecretError) as exc:
        _fail(error_text(exc, cli_language()))
        return
    except KeyboardInterrupt:  # before any device was contacted (pushes defer it)
        _fail(_("interrupted by SIGINT before any device was contacted: nothing changed"),
              130)
        return
    _report(res, as_json)
    journaled = _journal(res, name, lab if target is None else target.lab, target,
                         loaded.topology.datacenters[name])
    _report_interrupted(res)
    if res.interrupted:
        sys.exit(SIGNAL_EXIT.get(res.interrupted, 130))
    sys.exit(0 if res.ok and journaled else 1)


def _confirm_push(topo, name: str, limit: tuple[str, ...], secrets, workers: int,  # type: ignore[no-untyped-def]
                  target) -> None:
    """A live push shows its plan first and is confirmed; a failed plan stops it."""
    from pesdc.cli.targeting import confirm_live
    from pesdc.netpush import plan_network

    planned = plan_network(topo, name, None, _limit(limit), secrets, workers, live=target)
    _report(planned, False)
    if not planned.ok:
        _fail(_("the plan failed on {n} device(s) (above): nothing was pushed").format(
            n=len(planned.failed)), 1)
    confirm_live("net apply", target, _("{lines} line(s) to push to {n} device(s) (the plan "
                                        "above)").format(lines=planned.changed,
                                                          n=len(planned.hosts)), False)


@net.command()
@click.option("--dc", help="Only this center.")
@click.argument("device", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def backups(dc: str | None, device: str | None, as_json: bool) -> None:
    """List the running configurations saved before changes."""
    from pesdc.netpush.backups import backup_root, list_backups

    found = list_backups(dc, device)
    if as_json:
        click.echo(json.dumps([{"center": b.center, "device": b.device, "time": b.stamp,
                                "lab": b.lab, "path": str(b.path)} for b in found], indent=2))
        return
    if not found:
        click.echo(_("no backups under {folder}").format(folder=backup_root()), err=True)
        return
    for b in found:
        lab = _(" (lab {name})").format(name=b.lab) if b.lab else ""
        click.echo(f"{b.center}/{b.device}  {b.stamp}{lab}  {b.path}")
