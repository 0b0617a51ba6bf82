"""`pesdc lab`: a topology as real hosts, routers and firewalls on this machine."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.table import Table

from pesdc.cli.common import TerminalConsole, center_name, load_or_exit
from pesdc.cli.language import _, cli_language
from pesdc.cli.reporting import reporter
from pesdc.formats import format_option
from pesdc.i18n import N_
from pesdc.lab import image as lab_image
from pesdc.lab.errors import LabError
from pesdc.lab.plan import build_plan
from pesdc.lab.runtime import Lab, require_root
from pesdc.lab.status import LabStatus, pick_lab

console = TerminalConsole(stderr=True)


def _log(message: str) -> None:
    """What lab up says while it works (stderr), in the command line's language."""
    console.print(_localized_note(message))


def _fail(exc: LabError) -> None:
    click.echo(f"pesdc lab: {exc.text(cli_language())}", err=True)
    sys.exit(2)


@click.group()
def lab() -> None:
    """Bring a center up as a lab of namespaces, hosts, routers and firewalls."""


def _servers_option(values: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in values:
        center, sep, names = v.partition(":")
        if not sep or not center or not names.strip(","):
            raise click.BadParameter(_("{value!r}: give CENTER:SERVER,SERVER...").format(
                value=v), param_hint="--servers")
        out.setdefault(center, []).extend(n for n in names.split(",") if n)
    return out


@lab.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", "dcs", multiple=True,
              help="The center to bring up (default: the only city center). Repeat it to "
                   "bring several centers up in one lab, joined by their uplinks.")
@click.option("--name", "lab_name",
              help="Lab name (default: the center's name; several centers: their names "
                   "joined by '-').")
@click.option("--servers", "servers", multiple=True, metavar="CENTER:NAME,...",
              help="Several centers: bring up only these servers of CENTER (a far center "
                   "kept light; lab status names those left out). Repeatable.")
def up(paths: tuple[Path, ...], dcs: tuple[str, ...], lab_name: str | None,
       servers: tuple[str, ...]) -> None:
    """Bring a center up (idempotent: converges, repairs killed nodes)."""
    loaded = load_or_exit(paths)
    only = _servers_option(servers)
    try:
        # First: without root not even the lab's state (root's own folder) can be read.
        require_root()
    except LabError as exc:
        _fail(exc)
        return
    if len(dcs) > 1:
        _up_group(loaded.topology, list(dcs), lab_name, only, paths)
        return
    if only:
        raise click.UsageError(_("--servers needs several centers (--dc A --dc B)"))
    name = center_name(loaded.topology, dcs[0] if dcs else None)
    try:
        from pesdc.lab.group import Group

        if lab_name and Group.load(lab_name) is not None:
            raise LabError(N_("lab {name} holds several centers: bring it up with every "
                              "--dc it holds, or choose another --name"), name=lab_name)
        plan = build_plan(loaded.topology, name, lab_name)
        lab_obj = Lab(plan.lab)
        with reporter() as progress:  # stderr: a bar, or a flushed line per node
            res = lab_obj.up(plan, [str(p) for p in paths], _log, progress)
    except LabError as exc:
        _fail(exc)
        return
    click.echo(_("lab {name} up: {nodes} nodes ({created} created, {repaired} repaired) in "
                 "{seconds} s; ssh config: {config}").format(
                     name=plan.lab, nodes=res["nodes"], created=res["created"],
                     repaired=res["repaired"], seconds=res["seconds"],
                     config=lab_obj.ssh_dir / "ssh_config"))


def _up_group(topo, dcs: list[str], lab_name: str | None,  # type: ignore[no-untyped-def]
              only: dict[str, list[str]], paths: tuple[Path, ...]) -> None:
    from pesdc.lab import group

    name = lab_name or "-".join(dcs)
    try:
        with reporter() as progress:  # stderr: a bar, or a flushed line per node
            res = group.up(topo, name, dcs, only, [str(p) for p in paths], _log,
                           progress)
    except LabError as exc:
        _fail(exc)
        return
    members = res["members"]
    for c, r in members.items():
        click.echo(_("  {center}: lab {lab}, {nodes} nodes ({created} created, {repaired} "
                     "repaired)").format(center=c, lab=group.member_lab(name, c),
                                         nodes=r["nodes"], created=r["created"],
                                         repaired=r["repaired"])
                   + (_("; only servers {names}").format(names=", ".join(only[c]))
                      if c in only else ""))
    click.echo(_("lab {name} up: {count} centers joined by {uplinks} in {seconds} s (--lab "
                 "{name} --dc CENTER on any command)").format(
                     name=name, count=len(dcs),
                     uplinks=", ".join(res["uplinks"]) or _("no uplink"),
                     seconds=res["seconds"]))


@lab.command()
@click.option("--name", "lab_name", help="Lab name (default: the only lab).")
def down(lab_name: str | None) -> None:
    """Remove every namespace, process, mount and file the lab created."""
    from pesdc.lab.group import Group
    from pesdc.lab.group import down as down_group

    if lab_name and Group.load(lab_name) is not None:
        try:
            res = down_group(lab_name)
        except LabError as exc:
            _fail(exc)
            return
        click.echo(_("lab {name} down: {nodes} nodes removed in {ms} ms").format(
            name=lab_name, nodes=res["nodes"], ms=res["ms"]))
        return
    try:
        lab_obj = pick_lab(lab_name)
        res = lab_obj.down()
    except LabError as exc:
        _fail(exc)
        return
    click.echo(_("lab {name} down: {nodes} nodes removed in {ms} ms").format(
        name=lab_obj.name, nodes=res["nodes"], ms=res["ms"]))


@lab.command()
@click.option("--name", "lab_name", help="Lab name (default: the only lab).")
@format_option(json_flag=True)
def status(lab_name: str | None, fmt: str) -> None:
    """Nodes of the lab, their state and addresses. Exit 1 unless every node is up (a lab
    that is not up is reported as down)."""
    from pesdc.formats import echo
    from pesdc.lab.status import lab_status

    try:
        res = lab_status(lab_name)
    except LabError as exc:
        _fail(exc)
        return
    if fmt == "json":
        echo("lab-status", res.as_dict())
    else:
        _print_status(res)
    if res.state != "up":
        sys.exit(1)


def _print_status(res: LabStatus) -> None:
    if res.lab is None:
        title = _("no lab")
    elif res.centers is not None:
        title = _("lab {name} ({centers})").format(name=res.lab,
                                                   centers=", ".join(res.centers))
    else:
        title = _("lab {name}").format(name=res.lab)
    # The state as the JSON says it (up, down, degraded): a word scripts may grep for.
    table = Table(title=f"{title}: {res.state}")
    cols = (("center",) if res.centers is not None else ()) + (
        "node", "role", "state", "address", "pid")
    for col in cols:
        table.add_column(col)
    for r in res.nodes:
        table.add_row(*(str(r.get(k) or "") for k in cols))
    TerminalConsole().print(table)
    for r in res.nodes:
        if r["role"] == "operator":
            click.echo(_("operator namespace {host} ({address}), routes: {routes}").format(
                host=r["host"], address=r["address"],
                routes="; ".join(r["routes"]) or _("none")))
    for n in res.notes:
        click.echo(_("note: {note}").format(note=_localized_note(n)))


def _localized_note(note: object) -> str:
    """A status note in the command line's language (a LabError-like template with its
    values, or a plain string as it is)."""
    text = getattr(note, "text", None)
    return str(text(cli_language())) if callable(text) else str(note)


@lab.command()
@click.argument("ref", metavar="CENTER/UPLINK")
@click.argument("state", type=click.Choice(["down", "up"]))
@click.option("--name", "lab_name", required=True, help="The multi-center lab.")
def uplink(ref: str, state: str, lab_name: str) -> None:
    """Cut (down) or restore (up) an uplink between two centers of a multi-center lab,
    at both ends: a fault to rehearse (the routers' OSPF sees it as a real cut)."""
    from pesdc.lab.group import Group, find_link, set_uplink
    from pesdc.lab.runtime import require_root
    from pesdc.model.loader import load

    try:
        require_root()
        grp = Group.load(lab_name)
        if grp is None:
            raise LabError(N_("lab {name} is not a multi-center lab (pesdc lab up TREE "
                              "--dc A --dc B --name NAME)"), name=lab_name)
        loaded = load([Path(p) for p in grp.sources])
        if not loaded.report.ok:
            raise LabError(N_("the lab's tree ({sources}) no longer validates: pesdc "
                              "validate it"), sources=", ".join(grp.sources))
        link = find_link(loaded.topology, grp, ref)
        set_uplink(grp, link, state == "up")
    except LabError as exc:
        _fail(exc)
        return
    click.echo(_("lab {name}: uplink {ref} ({lower} {lower_node} - {upper} {upper_node}) "
                 "{state}").format(name=lab_name, ref=f"{link.lower}/{link.uplink}",
                                   lower=link.lower, lower_node=link.lower_node,
                                   upper=link.upper, upper_node=link.upper_node,
                                   state=state))


@lab.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("node")
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--name", "lab_name", help="Lab name (default: the only lab).")
def exec_(node: str, cmd: tuple[str, ...], lab_name: str | None) -> None:
    """Run CMD on a lab node (servers: inside their own filesystem and PID space)."""
    try:
        argv = pick_lab(lab_name).exec_argv(node, list(cmd))
    except LabError as exc:
        _fail(exc)
        return
    os.execvp(argv[0], argv)


@lab.command(context_settings={"ignore_unknown_options": True})
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--lab", "--name", "lab_name", help="Lab name (default: the only lab).")
def operator(cmd: tuple[str, ...], lab_name: str | None) -> None:
    """Run CMD on the operator's workstation: outside the center, its only route is to
    the bastion host (pesdc lab operator --lab NAME -- CMD ARGS...)."""
    from pesdc.lab import operator as lab_operator

    try:
        name = pick_lab(lab_name).name
        argv = lab_operator.operator_argv(name, list(cmd))
    except LabError as exc:
        _fail(exc)
        return
    os.environ[lab_operator.INSIDE_ENV] = name
    os.execvp(argv[0], argv)


@lab.group()
def image() -> None:
    """The cached Debian base image of lab hosts."""


@image.command()
@click.option("--force", is_flag=True, help="Rebuild even if current.")
def build(force: bool) -> None:
    """debootstrap the base and fill the local apt repository (once; cached)."""
    try:
        info = lab_image.build(force=force,
                               log=lambda m: click.echo(_localized_note(m), err=True))
    except LabError as exc:
        _fail(exc)
        return
    click.echo(json.dumps(info, indent=2))


@image.command(name="status")
def image_status() -> None:
    """Whether the base image is built and current."""
    info = lab_image.status()
    click.echo(json.dumps(info, indent=2))
    sys.exit(0 if info.get("built") and info.get("current") else 1)


@lab.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", help="The center (default: the only city center).")
@click.option("--lab", "--name", "lab_name", help="Lab name (default: the center's name).")
@click.option("--json", "as_json", is_flag=True, help="Every probe as JSON.")
def probe(paths: tuple[Path, ...], dc: str | None, lab_name: str | None,
          as_json: bool) -> None:
    """Probe every zone pair and flow with real packets; expected against observed.

    A probe that got no answer counts as blocked only when, in the same run, its source
    got an answer to something it sent and the destination's listener answered its own
    connect; otherwise it is an error naming the side that failed. Exit 1 on any
    mismatch or error."""
    from pesdc.lab.group import Group
    from pesdc.lab.probe import probe_lab

    loaded = load_or_exit(paths)
    grp = Group.load(lab_name) if lab_name else None
    if grp is not None and dc is None:
        _probe_between(loaded.topology, grp, as_json)
        return
    name = center_name(loaded.topology, dc)
    try:
        from pesdc.lab.group import lab_for

        lab_for(lab_name or name, name)  # a lab of another center: refused, nothing sent
        plan = build_plan(loaded.topology, name, lab_name)
        lab_obj = Lab(plan.lab)
        if not lab_obj.exists():
            raise LabError(N_("lab {name} is not up: pesdc lab up {paths}"), name=plan.lab,
                           paths=" ".join(map(str, paths)))
        with console.status(_("probing")):
            report = probe_lab(loaded.topology, plan)
    except LabError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        print_matrix(report)
    sys.exit(0 if report.ok else 1)


def _probe_between(topo, grp, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """A multi-center lab without --dc: the probes between its centers."""
    from pesdc.lab.crossprobe import probe_centers

    try:
        plans = {c: build_plan(topo, c, grp.name) for c in grp.centers}
        missing = [p.lab for p in plans.values() if not Lab(p.lab).exists()]
        if missing:
            raise LabError(N_("lab {name} is not up ({missing}): pesdc lab up {command}"),
                           name=grp.name, missing=", ".join(missing),
                           command=" ".join(grp.sources) + " "
                           + " ".join(f"--dc {c}" for c in grp.centers))
        with console.status(_("probing between centers")):
            report = probe_centers(topo, plans)
    except LabError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        print_matrix(report)
    sys.exit(0 if report.ok else 1)


def print_matrix(report) -> None:  # type: ignore[no-untyped-def]
    from rich.text import Text

    from pesdc.model.diagnostics import printable
    from pesdc.verdict import Verdict

    zones = sorted({p.src_zone for p in report.probes} | {p.dst_zone for p in report.probes})
    table = Table(title=_("isolation probes of {center}: rows from, columns to (allowed "
                          "passed / blocked held; E: errors, no verdict)").format(
                              center=report.dc))
    table.add_column(_("from \\ to"))
    for z in zones:
        table.add_column(z)
    for a in zones:
        cells = []
        for b in zones:
            ps = [p for p in report.probes if p.src_zone == a and p.dst_zone == b]
            if not ps:
                cells.append("")
                continue
            allowed = [p for p in ps if p.expected]
            blocked = [p for p in ps if not p.expected]
            failed = [p for p in ps if p.verdict is Verdict.failed]
            errors = [p for p in ps if p.verdict is Verdict.error]
            text = f"{sum(p.ok for p in allowed)}/{len(allowed)} | " \
                   f"{sum(p.ok for p in blocked)}/{len(blocked)}"
            if errors:
                text += f" E{len(errors)}"
            cells.append(f"[red]{text} ✗[/]" if failed else
                         f"[magenta]{text} ![/]" if errors else f"[green]{text}[/]")
        table.add_row(a, *cells)
    out = TerminalConsole(width=max(TerminalConsole().width, 40 + 14 * len(zones)))
    out.print(table)

    def where(p) -> str:  # type: ignore[no-untyped-def]
        port = "" if p.protocol == "icmp" else f"/{p.port}"
        return f"{p.src_zone}->{p.dst_zone} {p.protocol}{port} {p.src} -> {p.dst} ({p.why})"

    # One line per probe, never wrapped (grep finds it), the cause as plain text.
    # MISMATCH and ERROR stay as they are in every language: what a reader greps for.
    for p in report.mismatches:
        out.print(Text.assemble(("MISMATCH", "red"), printable(
            " " + (_("{where}: expected allowed, observed passed") if p.expected and p.observed
                   else _("{where}: expected allowed, observed blocked") if p.expected
                   else _("{where}: expected blocked, observed passed") if p.observed
                   else _("{where}: expected blocked, observed blocked")).format(
                       where=where(p)))), soft_wrap=True)
    for p in report.errors:
        out.print(Text.assemble(("ERROR", "magenta"), printable(
            " " + (_("{where}: expected allowed, no verdict: {cause}") if p.expected else
                   _("{where}: expected blocked, no verdict: {cause}")).format(
                       where=where(p), cause=p.cause))), soft_wrap=True)
    counts = report.counts()
    out.print(_("{probes} probes: {passed} passed, {mismatches} mismatch(es), {errors} "
                "error(s)").format(probes=len(report.probes), passed=counts["pass"],
                                   mismatches=len(report.mismatches),
                                   errors=len(report.errors)))
