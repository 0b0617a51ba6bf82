"""`pesdc export ansible`: inventory, host_vars and playbook for the Ansible roles."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pesdc.cli.common import load_or_exit, require_centers
from pesdc.cli.language import _, cli_language
from pesdc.lab.errors import LabError
from pesdc.model.diagnostics import localized
from pesdc.render.output import OutputError


@click.group()
def export() -> None:
    """Export a center for other tools (Ansible)."""


@export.command(name="ansible")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", "names", multiple=True,
              help="Only these centers (default: every center with servers).")
@click.option("--lab", "lab", help="Reach the hosts of this lab (its key, known_hosts and "
                                   "controller namespace).")
@click.option("--live", "live", metavar="PROFILE",
              type=click.Path(path_type=Path, dir_okay=False),
              help="Reach the hosts of the live center of this connection profile: "
                   "ansible.cfg uses its SSH configuration (through the bastion, pinned "
                   "keys); run `pesdc targets trust` first.")
@click.option("--limit", multiple=True, help="Only these servers (name, NAME.CENTER, role).")
@click.option("--deploy-key", "deploy_keys", multiple=True, type=click.Path(
    path_type=Path, exists=True, dir_okay=False),
    help="Public key(s) of the deploy account (default: the lab's key with --lab, else "
         "PESDC_DEPLOY_PUBKEY or ~/.ssh/id_*.pub).")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder.")
@click.option("--force", is_flag=True,
              help="Write into a non-empty OUTPUT that pesdc did not create (it has no "
                   "MANIFEST); nothing already in it is deleted.")
def ansible(paths: tuple[Path, ...], names: tuple[str, ...], lab: str | None,
            live: Path | None, limit: tuple[str, ...], deploy_keys: tuple[Path, ...],
            out: Path, force: bool) -> None:
    """Write OUTPUT/{inventory/hosts.yml, host_vars/, site.yml, ansible.cfg}.

    Apply with `ansible-playbook site.yml` from OUTPUT (ANSIBLE_CONFIG=OUTPUT/ansible.cfg);
    secrets come from PESDC_SECRET_REPLICATION_PASSWORD and
    PESDC_SECRET_BACKUP_PRIVATE_KEY at run time, never from the export.
    """
    from pesdc.provision.ansible_export import export_ansible
    from pesdc.provision.engine import deploy_pubkeys
    from pesdc.render import select

    loaded = load_or_exit(paths)
    topo = loaded.topology
    require_centers(topo, names)
    if lab and not names:
        from pesdc.lab.runtime import Lab
        center = Lab(lab).load_state().get("dc") if Lab(lab).exists() else None
        names = (center,) if center else names
    ssh_config = None
    if live is not None:
        from pesdc.cli.targeting import live_target_or_exit
        from pesdc.targets.target import close

        if lab:
            raise click.UsageError(_("give --lab NAME or --live PROFILE, not both"))
        target = live_target_or_exit("export ansible", topo, live, None)
        close(target)  # the export only writes files; ansible-playbook connects later
        names, ssh_config, lab = (target.center,), target.ssh_config, target.lab
    names = names or topo.focus  # a file or folder of a tree: its centers
    dcs = [d for d in select(topo, list(names) or None) if d.servers]
    if lab and len(dcs) != 1:
        raise click.UsageError(_("--lab exports one center: choose it with --dc"))
    try:
        if lab and ssh_config is None:
            from pesdc.lab.group import lab_for

            lab = lab_for(lab, dcs[0].name)  # a lab of another center: refused
        keys = [p.read_text().strip() for p in deploy_keys] or deploy_pubkeys(lab)
        res = export_ansible(topo, dcs, out, lab, keys, None, list(limit) or None, force,
                             ssh_config=ssh_config)
    except (LabError, ValueError, OutputError) as exc:
        click.echo(_("pesdc export: {error}").format(error=_shown(exc)), err=True)
        sys.exit(2)
    click.echo(_("exported {n} host(s) into {path}: {command}").format(
        n=len(res.hosts), path=res.out, command=f"ANSIBLE_CONFIG={res.out / 'ansible.cfg'} "
        f"ansible-playbook {res.out / 'site.yml'}"), err=True)


@export.command(name="awx")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", "names", multiple=True,
              help="Only these centers (default: every center of the tree, or of the path).")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder; commit it at --repo-dir of the --scm-url repository.")
@click.option("--scm-url", required=True,
              help="The Git repository AWX syncs: the tree, the profiles and this export.")
@click.option("--scm-branch", default="main", show_default=True)
@click.option("--scm-credential", metavar="NAME",
              help="The Source Control credential of the project (by name).")
@click.option("--repo-dir", default="awx", show_default=True,
              help="Where OUTPUT is in the repository.")
@click.option("--repo-tree", default="topologies", show_default=True,
              help="Where the topology tree is in the repository.")
@click.option("--repo-profiles", default="targets", show_default=True,
              help="Where the connection profiles are (CENTER.targets.yaml, written by "
                   "pesdc targets init).")
@click.option("--ee-image", default=None,
              help="The execution environment's image (default: "
                   "localhost/pesdc-ee:VERSION, see execution-environment.yml).")
@click.option("--force", is_flag=True,
              help="Write into a non-empty OUTPUT that pesdc did not create (it has no "
                   "MANIFEST); nothing already in it is deleted.")
def awx(paths: tuple[Path, ...], names: tuple[str, ...], out: Path, scm_url: str,
        scm_branch: str, scm_credential: str | None, repo_dir: str, repo_tree: str,
        repo_profiles: str, ee_image: str | None, force: bool) -> None:
    """Write OUTPUT/{awx.yml, mesh.yml, credentials.yml, playbooks/, inventories/}:
    AWX / Automation Platform as code (the awx.awx collection's modules).

    An organization per province (the ministry its own), a project, an inventory, an
    instance group and an execution node on the bastion per center, a hop node per
    province, job templates for apply, net apply, verify and audit, a stage rehearsal
    workflow per city. Apply with `ansible-playbook awx.yml` (CONTROLLER_HOST and
    CONTROLLER_OAUTH_TOKEN in the environment); credentials are named, never filled.
    """
    from pesdc import __version__
    from pesdc.awx.export import AwxExportError, AwxOptions, export_awx
    from pesdc.render import select

    loaded = load_or_exit(paths)
    topo = loaded.topology
    require_centers(topo, names)
    names = names or topo.focus
    dcs = select(topo, list(names) or None)
    opts = AwxOptions(scm_url, scm_branch, scm_credential, repo_dir, repo_tree,
                      repo_profiles, ee_image or f"localhost/pesdc-ee:{__version__}")
    try:
        res = export_awx(topo, dcs, out, opts, force)
    except (AwxExportError, OutputError) as exc:
        click.echo(_("pesdc export awx: {error}").format(error=_shown(exc)), err=True)
        sys.exit(2)
    assert res.mesh is not None
    lang = cli_language()
    for center, why in sorted(res.mesh.reasons.items()):
        click.echo(_("pesdc export awx: {center}: no execution node ({why})").format(
            center=center, why=localized(lang, why.template, why.args)), err=True)
    click.echo(_("exported {n} AWX object(s) ({executions} execution node(s), {hops} hop "
                 "node(s)) into {path}: {files} file(s), {size} bytes; apply with "
                 "{command}").format(
                     n=sum(res.objects.values()), executions=len(res.mesh.executions),
                     hops=len(res.mesh.hops), path=res.out, files=res.files, size=res.bytes,
                     command=f"ansible-playbook {res.out / 'awx.yml'}"), err=True)


def _shown(exc: Exception) -> str:
    """An error's text in the command line's language where it has one (OutputError,
    LabError)."""
    return exc.text(cli_language()) if isinstance(exc, (OutputError, LabError)) \
        else str(exc)
