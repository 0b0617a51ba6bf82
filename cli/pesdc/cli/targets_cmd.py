"""`pesdc targets init | trust | show`: the connection profile of a live center."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from pesdc.cli.common import CONTEXT, TerminalConsole, load_or_exit, pick_center
from pesdc.cli.language import _
from pesdc.cli.targeting import live_target_or_exit
from pesdc.model.schema import Tier


@click.group(context_settings=CONTEXT)
def targets() -> None:
    """Live centers: the connection profile (bastion, accounts) and pinned host keys."""


@targets.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", help="The center (default: the only city center).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the profile (default: CENTER.targets.yaml here).")
@click.option("--identity-file", help="The key to log in to the bastion with (else your "
                                      "agent and ssh_config).")
@click.option("--bastion-user", "bastion_users", multiple=True,
              help="Your account(s) on the bastion, tried in order (default: pesdc, root).")
@click.option("--stand-ins", "stand_ins", metavar="LAB",
              help="A rehearsal: the center's gear are the stand-ins of this lab.")
@click.option("--force", is_flag=True, help="Overwrite an existing profile.")
def init(paths: tuple[Path, ...], dc: str | None, output: Path | None,
         identity_file: str | None, bastion_users: tuple[str, ...], stand_ins: str | None,
         force: bool) -> None:
    """Write a connection profile for a center from its topology (no secrets in it)."""
    from pesdc.targets.profile import initial_profile, profile_text

    loaded = load_or_exit(paths)
    center = pick_center(loaded.topology, dc, Tier.city).name
    out = output or Path(f"{center}.targets.yaml")
    if out.exists() and not force:
        raise click.UsageError(_("{path} exists: review it, or give --force to replace "
                                 "it").format(path=out))
    try:
        data = initial_profile(loaded.topology, center, stand_ins, identity_file,
                               list(bastion_users) or None)
    except ValueError as exc:
        click.echo(_("pesdc targets init: {error}").format(error=exc), err=True)
        sys.exit(2)
    out.write_text(profile_text(data), encoding="utf-8")
    click.echo(_("wrote {path}: center {center}, bastion {bastion} ({address}); next: "
                 "{command}").format(
                     path=out, center=center, bastion=data["bastion"]["server"],
                     address=data["bastion"]["address"],
                     command=f"pesdc targets trust {out} " + " ".join(str(p) for p in paths)),
               err=True)


@targets.command()
@click.argument("profile", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Pin what is seen without asking (automation, "
                                          "after an out-of-band check of the fingerprints).")
@click.option("--replace", multiple=True, metavar="NAME",
              help="Accept a CHANGED key of this host (after checking it out of band).")
def trust(profile: Path, paths: tuple[Path, ...], yes: bool, replace: tuple[str, ...]) -> None:
    """Collect every host's and device's key through the bastion, show the fingerprints
    for review, and pin them; later connections check strictly against them."""
    from pesdc.targets import hostkeys
    from pesdc.targets.target import close, live_target

    loaded = load_or_exit(paths)
    target = live_target_or_exit("targets trust", loaded.topology, profile, None,
                                 connect=False)
    prof = target.profile
    out = TerminalConsole(stderr=True)
    pinned = hostkeys.read_pinned(target.known_hosts)
    b = prof.bastion
    try:
        seen_b = hostkeys.scan(b.address, b.port, hostkeys.direct_sock(
            b.address, b.port, prof.timeouts.connect), prof.timeouts.connect)
    except hostkeys.ScanError as exc:
        click.echo(_("pesdc targets trust: the bastion {server} ({address}:{port}): "
                     "{error}").format(server=b.server, address=b.address, port=b.port,
                                       error=exc), err=True)
        sys.exit(1)
    keys: dict[str, list[hostkeys.SeenKey]] = {}
    names = {b.address: f"{b.server} (bastion)"}  # a comment in known_hosts: English
    # Keep what is pinned already; what is seen below replaces or joins it.
    for host, types in pinned.items():
        addr = host.strip("[").split("]")[0]
        keys[addr] = [hostkeys.SeenKey(addr, 22 if "]:" not in host else
                                       int(host.rsplit(":", 1)[1]), t, blob)
                      for t, blob in types.items()]
    stop = _review(out, [(names[b.address], seen_b)], pinned, replace)
    if stop:
        sys.exit(1)
    if not yes and not _ask(_("pin the bastion's key(s) of {server}?").format(
            server=b.server)):
        sys.exit(2)
    keys[b.address] = seen_b
    _write(target.known_hosts, keys, names)
    try:  # now the bastion's key is pinned: log in to it (the first account it takes)
        target = live_target(loaded.topology, profile)
    except Exception as exc:  # the bastion refused: say why, nothing more is pinned
        click.echo(_("pesdc targets trust: {error}").format(error=exc), err=True)
        sys.exit(1)
    rows: list[tuple[str, list[hostkeys.SeenKey]]] = []
    errors: list[str] = []
    from concurrent.futures import ThreadPoolExecutor

    def one(ep):  # type: ignore[no-untyped-def]
        try:
            return ep, hostkeys.scan(ep.address, 22, lambda: target.sock(ep.address, 22),
                                     prof.timeouts.connect), None
        except hostkeys.ScanError as exc:
            return ep, [], str(exc)

    with out.status(_("reading {n} host keys through {server}").format(
            n=len(target.endpoints), server=b.server)), \
            ThreadPoolExecutor(max_workers=prof.parallel) as pool:
        found = list(pool.map(one, sorted(target.endpoints.values(), key=lambda e: e.name)))
    for ep, seen, err in found:
        names.setdefault(ep.address, ep.name)
        if err:
            errors.append(f"{ep.name} ({ep.address}): {err}")
        else:
            rows.append((ep.name, seen))
    stop = _review(out, rows, pinned, replace)
    for e in errors:
        out.print(f"[red]error[/] {e}")  # a severity word, as in validate
    if stop:
        close(target)
        sys.exit(1)
    if rows and not yes and not _ask(_("pin these {n} hosts' keys?").format(n=len(rows))):
        close(target)
        sys.exit(2)
    for _name, seen in rows:
        keys[seen[0].address] = seen
    _write(target.known_hosts, keys, names)
    close(target)
    click.echo(_("pinned {n} host(s) in {path}").format(n=len(keys), path=target.known_hosts)
               + (_("; {n} host(s) could not be read (not pinned)").format(n=len(errors))
                  if errors else ""), err=True)
    sys.exit(1 if errors else 0)


def _review(out: TerminalConsole, rows: list, pinned: dict, replace: tuple[str, ...]) -> bool:
    """Print each host's fingerprints and status; True when a changed key stops it."""
    from rich.table import Table

    from pesdc.targets import hostkeys

    table = Table(title=_("host keys seen (compare them with the hosts' own {command})").format(
        command="`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub`"))
    for col in (_("host"), _("address"), _("type")):
        table.add_column(col)
    table.add_column(_("fingerprint"), no_wrap=True, min_width=51)  # whole, for review
    table.add_column(_("status"))
    stop = False
    for name, seen in rows:
        problem = hostkeys.compare(name, seen, pinned)
        for k in seen:
            was = pinned.get(k.host_field, {})
            if not was:
                status = "[yellow]" + _("new") + "[/]"
            elif was.get(k.type) == k.blob:
                status = "[green]" + _("pinned, unchanged") + "[/]"
            elif name.split(" ")[0] in replace:
                status = "[yellow]" + _("CHANGED, replaced (--replace)") + "[/]"
            else:
                status = "[red]" + _("CHANGED") + "[/]"
                stop = True
            table.add_row(name, k.address, k.type, k.fingerprint, status)
        if problem and problem.expected and name.split(" ")[0] not in replace:
            out.print(f"[red]{problem.message()}[/]")
    out.print(table)
    return stop


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        click.echo(_("pesdc targets trust: refused: pinning keys needs a review; run it "
                     "from a terminal, or add --yes after checking the fingerprints out of "
                     "band"), err=True)
        return False
    return click.confirm(question, default=False, err=True)


def _write(path: Path, keys: dict, names: dict) -> None:
    from pesdc.durable import atomic_write
    from pesdc.targets import hostkeys

    try:
        who = getpass.getuser()
    except Exception:
        who = "?"
    text = hostkeys.pinned_text(keys, names, who,
                                datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text, 0o644, what="the pinned host keys")


@targets.command()
@click.argument("profile", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(profile: Path, paths: tuple[Path, ...]) -> None:
    """Log in to the bastion and compare every host's key with the pinned one."""
    from pesdc.targets.target import close

    loaded = load_or_exit(paths)
    target = live_target_or_exit("targets check", loaded.topology, profile, None)
    bad = target.check_keys(target.endpoints.values())
    close(target)
    for why in bad.values():
        click.echo(f"✗ {why}", err=True)
    click.echo(_("{ok} of {n} host(s) match their pinned keys, through {via}").format(
        ok=len(target.endpoints) - len(bad), n=len(target.endpoints), via=target.label),
        err=True)
    sys.exit(1 if bad else 0)
