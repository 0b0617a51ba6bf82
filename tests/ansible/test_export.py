"""`pesdc export ansible`: what it writes, that it holds no secrets, and that the roles
render the shared templates from its host_vars to the very bytes pesdc renders."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from pesdc.model import validate
from pesdc.provision.ansible_engine import parse_results
from pesdc.provision.ansible_export import ROLES_DIR, export_ansible
from pesdc.provision.desired import desired_state
from pesdc.render.context import CenterFacts, server_context

from .conftest import LABCITY

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0000000000000000000000000000000000000000000 test"
SECRET = "s3cret-replication-Pw-that-must-not-leak"


@pytest.fixture(scope="module")
def topo():
    res = validate([LABCITY])
    assert res.report.ok
    return res.topology


@pytest.fixture(scope="module")
def exported(topo, tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    mp = pytest.MonkeyPatch()
    mp.setenv("PESDC_STATE_DIR", str(state))
    mp.setenv("PESDC_SECRET_REPLICATION_PASSWORD", SECRET)
    out = tmp_path_factory.mktemp("export")
    try:
        res = export_ansible(topo, [topo.datacenters["weihai"]], out, None, [PUBKEY])
        private = (state / "secrets" / "weihai" / "backup_ed25519").read_text()
    finally:
        mp.undo()
    return out, res, private


def test_layout(exported):
    out, res, _ = exported
    assert len(res.hosts) == 11
    for rel in ("inventory/hosts.yml", "site.yml", "ansible.cfg",
                "host_vars/mis-1.weihai.yml", "host_vars/db-2.weihai.yml"):
        assert (out / rel).is_file(), rel
    inv = yaml.safe_load((out / "inventory" / "hosts.yml").read_text())
    assert set(inv["all"]["children"]["role_database"]["hosts"]) == {"db-1.weihai",
                                                                      "db-2.weihai"}
    assert "network" not in inv["all"]["children"]  # servers only
    plays = yaml.safe_load((out / "site.yml").read_text())
    roles = {r["role"]: r for r in plays[-1]["roles"]}
    assert next(iter(roles)) == "baseline" and "when" not in roles["baseline"]
    assert set(roles) == {"baseline", "appserver", "web", "database", "logserver",
                          "timesource", "bastion", "backup"}
    assert roles["database"]["when"] == "'role_database' in group_names"
    cfg = (out / "ansible.cfg").read_text()
    assert f"roles_path = {ROLES_DIR}" in cfg


def test_host_vars_hold_the_template_context_and_the_spec(exported, topo):
    out, _, _ = exported
    dc = topo.datacenters["weihai"]
    facts = CenterFacts.of(topo, dc)
    srv = next(s for s in dc.servers if s.name == "db-2")
    hv = yaml.safe_load((out / "host_vars" / "db-2.weihai.yml").read_text())
    ctx = server_context(facts, srv)
    for key, value in ctx.items():
        assert hv[key] == value, key
    assert hv["pesdc"]["database"]["cluster_role"] == "standby"
    spec = desired_state(topo, "weihai", "db-2", False, [PUBKEY])
    assert hv["pesdc_packages"] == spec.packages
    assert [u["name"] for u in hv["pesdc_users"]] == [u.name for u in spec.users]
    assert hv["pesdc_controls"] == spec.controls
    assert [f["path"] for f in hv["pesdc_files"]] == [f.path for f in spec.files]
    assert all("content" not in f for f in hv["pesdc_files"])  # the roles render them


def test_no_secrets_in_the_export(exported):
    out, _, private = exported
    body = private.strip().splitlines()[1]
    for f in out.rglob("*"):
        if f.is_file():
            text = f.read_text()
            assert SECRET not in text, f
            assert "PRIVATE KEY" not in text and body not in text, f


def test_lab_export_reaches_hosts_from_the_controller_namespace(topo, tmp_path, monkeypatch):
    from pesdc.provision import ansible_export as ax

    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    lab = ax.LabSSH("x1", "pesdc-x1-ctl", Path("/l/id_ed25519"), Path("/l/known_hosts"),
                    Path("/l/cm"))
    monkeypatch.setattr(ax, "lab_ssh", lambda name: lab)
    export_ansible(topo, [topo.datacenters["weihai"]], tmp_path / "o", "x1", [PUBKEY])
    cfg = (tmp_path / "o" / "ansible.cfg").read_text()
    assert "UserKnownHostsFile=/l/known_hosts" in cfg
    assert "StrictHostKeyChecking=yes" in cfg and "IdentityFile=/l/id_ed25519" in cfg
    assert "ControlPersist" in cfg
    wrapper = (tmp_path / "o" / "lab-ssh").read_text()
    assert "ip netns exec pesdc-x1-ctl ssh" in wrapper
    hv = yaml.safe_load((tmp_path / "o" / "host_vars" / "mis-1.weihai.yml").read_text())
    assert hv["pesdc_lab"] is True
    assert "PESDC-BL-16" in hv["pesdc_not_applicable"]


def test_scram_filter_matches_the_pyinfra_deploy():
    import importlib.util

    from pesdc.provision.deploys import scram_verifier

    path = ROLES_DIR / "database" / "filter_plugins" / "pesdc_scram.py"
    spec = importlib.util.spec_from_file_location("pesdc_scram", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    f = mod.FilterModule().filters()["pesdc_scram_verifier"]
    assert f("pw-1", "weihai") == scram_verifier("pw-1", "weihai")


def test_callback_results_become_host_results():
    data = {"hosts": {
        "a.x": {"ok": 5, "changed": 2, "changes": ["t1", "t2"], "failed": False,
                "unreachable": False, "error": None, "diffs": []},
        "b.x": {"ok": 1, "changed": 0, "changes": [], "failed": True, "unreachable": True,
                "error": "unreachable: timeout", "diffs": []}}}
    res = parse_results(data, ["a.x", "b.x", "c.x"], time.monotonic())
    assert (res[0].ok, res[0].changed, res[0].changes) == (True, 2, ["t1", "t2"])
    assert not res[1].ok and res[1].details["unreachable"] and "timeout" in res[1].error
    assert not res[2].ok  # never reached by the playbook


RENDER_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Render every file of the host as the roles do
      ansible.builtin.template:
        src: "{{ roles_dir }}/baseline/templates/{{ item.template }}"
        dest: "{{ out }}/{{ inventory_hostname }}/{{ item.path | regex_replace('/', '%') }}"
        lstrip_blocks: true
        trim_blocks: true
        mode: "0600"
      vars:
        initd: "{{ item.context.initd | default({}) }}"
        app: "{{ item.context.app | default({}) }}"
        site: "{{ item.context.site | default({}) }}"
      loop: "{{ pesdc_files }}"
      loop_control:
        label: "{{ item.path }}"
"""


@pytest.mark.slow
def test_roles_render_the_same_bytes_as_pesdc(exported, topo, tmp_path, ansible_playbook):
    """Every file of every server: Ansible's template module, from the exported host_vars,
    with the roles' options, gives byte for byte what pesdc renders (and pyinfra puts)."""
    import sys

    out, res, _ = exported
    got = tmp_path / "got"
    for h in res.hosts:
        (got / h).mkdir(parents=True)
    play = out / "render-check.yml"  # beside host_vars/, as site.yml is
    play.write_text(RENDER_PLAY)
    env_cfg = tmp_path / "ansible.cfg"
    env_cfg.write_text("[defaults]\ngathering = explicit\nforks = 11\n")
    proc = subprocess.run(
        [ansible_playbook, "-i", str(out / "inventory" / "hosts.yml"), str(play),
         "-e", json.dumps({"roles_dir": str(ROLES_DIR), "out": str(got),
                           "ansible_connection": "local",
                           "ansible_python_interpreter": sys.executable})],
        capture_output=True, text=True, timeout=600, cwd=out,
        env={"ANSIBLE_CONFIG": str(env_cfg), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    facts = CenterFacts.of(topo, topo.datacenters["weihai"])
    checked = 0
    for srv in topo.datacenters["weihai"].servers:
        spec = desired_state(topo, "weihai", srv.name, False, [PUBKEY], facts=facts)
        for f in spec.files:
            if not f.template:
                continue
            mine = (got / spec.host / f.path.replace("/", "%")).read_bytes()
            assert mine == f.content.encode(), f"{spec.host}:{f.path}"
            checked += 1
    play.unlink()
    assert checked > 11 * 15
