"""A real lab (own name `an`): the export applied with ansible-playbook from the lab's
controller namespace converges, a second run changes nothing, and the hosts pass the
same checks as when the pyinfra engine applies them (which then finds nothing to do)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time

import pytest
import yaml

from pesdc.lab.runtime import Lab
from pesdc.model import validate

from .checks import host_checks, ssh
from .conftest import LABCITY, pesdc, require_lab

LAB = "an"  # this module's own lab: never one an engineer has up
pytestmark = [pytest.mark.lab, pytest.mark.slow]
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab_an(tmp_path_factory):
    require_lab()
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stdout + res.stderr
    out = tmp_path_factory.mktemp("export")
    res = pesdc("export", "ansible", str(LABCITY), "--lab", LAB, "-o", str(out))
    assert res.returncode == 0, res.stderr
    yield out
    down = pesdc("lab", "down", "--name", LAB)
    assert down.returncode == 0, down.stderr
    print(f"\nansible-playbook on 11 lab hosts: {TIMES}")


def playbook(out, results):
    """ansible-playbook site.yml inside the controller namespace (network safety)."""
    from pesdc.provision.ansible_engine import _secrets_env, ansible_playbook

    env = {**os.environ, "ANSIBLE_CONFIG": str(out / "ansible.cfg"),
           "ANSIBLE_CALLBACKS_ENABLED": "pesdc_json", "ANSIBLE_NOCOLOR": "1",
           "PESDC_ANSIBLE_RESULTS": str(results), **_secrets_env("weihai")}
    argv = Lab(LAB).controller_argv([ansible_playbook(), "site.yml"])
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=out, env=env, capture_output=True, text=True,
                          timeout=1800)
    return proc, time.monotonic() - started


def test_first_run_converges(lab_an):
    proc, seconds = playbook(lab_an, lab_an / "first.json")
    TIMES["first"] = round(seconds, 1)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    data = json.loads((lab_an / "first.json").read_text())
    assert len(data["hosts"]) == 11
    assert all(not h["failed"] for h in data["hosts"].values())


def test_second_run_changes_nothing(lab_an):
    proc, seconds = playbook(lab_an, lab_an / "second.json")
    TIMES["second"] = round(seconds, 1)
    assert proc.returncode == 0, proc.stdout[-4000:]
    data = json.loads((lab_an / "second.json").read_text())
    changed = {h: r["changes"] for h, r in data["hosts"].items() if r["changed"]}
    assert changed == {}
    assert all(s["changed"] == 0 for s in data["stats"].values())


def _expected(out, host):
    hv = yaml.safe_load((out / "host_vars" / f"{host}.yml").read_text())
    return hv


@pytest.mark.parametrize("host", ["mis-1.weihai", "db-1.weihai", "log-1.weihai",
                                  "web-1.weihai", "backup-1.weihai"])
def test_host_facts(lab_an, host):
    from pesdc.provision.desired import desired_state

    topo = validate([LABCITY]).topology
    spec = desired_state(topo, "weihai", host.split(".")[0], True)
    hv = _expected(lab_an, host)
    expected = {f.path: f.content for f in spec.files}
    problems = host_checks(LAB, host, expected, list(hv["mgmt"]["admins"].values()),
                           hv["mgmt"]["password_min_length"], hv["mgmt"]["syslog_servers"],
                           hv["server"]["roles"])
    assert problems == []


def test_database_streams(lab_an):
    query = shlex.quote("SELECT client_addr, state FROM pg_stat_replication")
    res = ssh(LAB, "db-1.weihai", "sudo", "runuser", "-u", "postgres", "--", "psql", "-XtAc",
              query)  # ssh joins its arguments into one remote shell command
    assert "10.50.4.11|streaming" in res.stdout, res.stdout + res.stderr
    res = ssh(LAB, "db-2.weihai", "sudo", "test", "-f",
              "/var/lib/postgresql/15/main/standby.signal")
    assert res.returncode == 0


def test_pyinfra_finds_nothing_to_change_and_the_same_checks_pass(lab_an):
    """Either engine: the pyinfra engine, run on the hosts Ansible applied, changes
    nothing (the same state), and the checks above still pass."""
    res = pesdc("apply", str(LABCITY), "--lab", LAB, "--json", timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    data = json.loads(res.stdout)
    TIMES["pyinfra_reapply"] = data["seconds"]
    assert data["changed"] == 0, {h["host"]: h["changes"] for h in data["hosts"] if h["changed"]}
    test_host_facts(lab_an, "mis-1.weihai")
