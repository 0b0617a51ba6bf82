"""``--lab NAME`` / ``--live PROFILE``: the one choice every connecting command makes.

Without either a connecting command refuses (exit 2) and says which to give: nothing
connects to a topology address by default. A live change (apply, net apply, a stage
step) prints its plan and asks before it changes anything, unless ``--yes``; ``--check``
runs the plan only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pesdc.cli.language import _, cli_language
from pesdc.localized import error_text
from pesdc.model.tree import Topology

EXIT_REFUSED = 2


def lab_option(help_text: str = "Work on this lab (from its controller namespace).") -> Any:
    return click.option("--lab", "lab", metavar="NAME", help=help_text)


def live_option() -> Any:
    return click.option("--live", "live", metavar="PROFILE",
                        type=click.Path(path_type=Path, dir_okay=False),
                        help="Work on the live center of this connection profile, through "
                             "its bastion (pesdc targets init writes one).")


def confirm_options(f: Any) -> Any:
    f = click.option("--check", is_flag=True,
                     help="Show the plan only: change nothing (live or lab).")(f)
    return click.option("--yes", is_flag=True,
                        help="Do not ask before a live change (automation).")(f)


def secret_options(secrets_help: str) -> Any:
    """``--secrets FILE`` (what it holds: ``secrets_help``) and ``--vault-password-file``,
    read by :mod:`pesdc.credentials`, for every command that needs credentials."""
    def deco(f: Any) -> Any:
        f = click.option("--vault-password-file", "vault_password_file", metavar="FILE",
                         type=click.Path(path_type=Path, dir_okay=False),
                         help="The vault password of an encrypted --secrets file (an "
                              "executable is run, its output read); default "
                              "$PESDC_VAULT_PASSWORD_FILE, else asked on the terminal.")(f)
        return click.option("--secrets", "secrets_file", metavar="FILE",
                            type=click.Path(path_type=Path, dir_okay=False),
                            help=secrets_help)(f)
    return deco


def require_target(command: str, lab: str | None, live: Path | None) -> None:
    """Refuse a connecting command that names neither a lab nor a live profile."""
    if lab is not None and live is not None:
        raise click.UsageError(_("{command}: give --lab NAME or --live PROFILE, not both").format(
            command=command))
    if lab is None and live is None:
        click.echo(_("pesdc {command}: refused: this command connects to hosts; say where: "
                     "--lab NAME (a lab of this center: pesdc lab up) or --live PROFILE (a "
                     "real center through its bastion: pesdc targets init, then pesdc "
                     "targets trust). Nothing was contacted.").format(command=command),
                   err=True)
        sys.exit(EXIT_REFUSED)


def live_target_or_exit(command: str, topo: Topology, live: Path, center: str | None,
                        connect: bool = True) -> Any:
    """The live Target (``connect``: logged in to the bastion); its problems (profile
    lines, bastion refusals) and exit 2."""
    from pesdc.targets.profile import ProfileError
    from pesdc.targets.target import TargetError, live_target

    try:
        return live_target(topo, live, center, connect)
    except ProfileError as exc:
        for d in exc.diagnostics:
            click.echo(d.format(cli_language()), err=True)
        click.echo(_("pesdc {command}: the connection profile {live} cannot be used "
                     "({count} problem(s)); nothing was contacted").format(
                         command=command, live=live, count=len(exc.diagnostics)), err=True)
    except (TargetError, OSError) as exc:
        click.echo(f"pesdc {command}: {error_text(exc, cli_language())}", err=True)
    sys.exit(EXIT_REFUSED)


def lab_target_or_exit(command: str, topo: Topology, center: str, lab: str) -> Any:
    from pesdc.targets.target import TargetError, lab_target

    try:
        return lab_target(topo, center, lab)
    except TargetError as exc:
        click.echo(f"pesdc {command}: {error_text(exc, cli_language())}", err=True)
        sys.exit(EXIT_REFUSED)


def confirm_live(command: str, target: Any, summary: str, yes: bool) -> None:
    """Ask before a live change; a run that cannot ask (no terminal) needs --yes."""
    if not target.live or yes:
        return
    click.echo(_("pesdc {command} on {center}, {label}:").format(
        command=command, center=target.center, label=target.label) + f"\n{summary}",
        err=True)
    if not sys.stdin.isatty():
        click.echo(_("pesdc {command}: refused: a live change needs confirmation; run it "
                     "from a terminal, or add --yes once the plan above is reviewed. "
                     "Nothing was changed.").format(command=command), err=True)
        sys.exit(EXIT_REFUSED)
    if not click.confirm(_("apply these changes to the live center {center}?").format(
            center=target.center), default=False, err=True):
        click.echo(_("pesdc {command}: not confirmed; nothing was changed").format(
            command=command), err=True)
        sys.exit(EXIT_REFUSED)
