"""The lab as engineers use it: real hosts, SSH with host keys, FRR, nftables, links."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from pesdc.lab.paths import lab_dir
from pesdc.lab.runtime import Lab

from .conftest import LAB, LABCITY, pesdc, require_lab

pytestmark = pytest.mark.lab


def lab_exec(node: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return pesdc("lab", "exec", "--name", LAB, node, *cmd, timeout=60)


def ssh(host: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    lab = Lab(LAB)
    argv = lab.controller_argv(["ssh", "-F", str(lab.ssh_dir / "ssh_config"), host, *cmd])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_every_node_is_up(lab_up):
    res = pesdc("lab", "status", "--name", LAB, "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    rows = json.loads(res.stdout)["nodes"]
    assert {r["node"] for r in rows} >= {"mis-1", "fw-1", "gk-1", "rt-1", "huancui",
                                         "controller"}
    assert all(r["state"] == "up" for r in rows)


def test_servers_have_own_filesystem_hostname_and_processes(lab_up):
    assert lab_exec("mis-1", "hostname").stdout.strip() == "mis-1"
    assert lab_exec("db-1", "hostname").stdout.strip() == "db-1"
    assert lab_exec("mis-1", "sh", "-c", "echo only-here > /root/marker").returncode == 0
    assert lab_exec("mis-1", "cat", "/root/marker").stdout.strip() == "only-here"
    assert lab_exec("db-1", "test", "-e", "/root/marker").returncode != 0
    assert not Path("/root/marker").exists()
    ps = lab_exec("mis-1", "ps", "-eo", "pid,comm")
    assert re.search(r"^\s*1\s+sshd", ps.stdout, re.M), ps.stdout
    assert "pytest" not in ps.stdout  # the machine's processes are not visible
    # /dev is the host's own: a socket or file made there (rsyslog's /dev/log) must not
    # appear on the machine.
    assert lab_exec("mis-1", "touch", "/dev/pesdc-lab-probe").returncode == 0
    assert not Path("/dev/pesdc-lab-probe").exists()
    assert lab_exec("mis-1", "test", "-c", "/dev/null").returncode == 0


def test_ssh_from_the_controller_checks_host_keys(lab_up):
    res = ssh("mis-1.weihai", "hostname")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "mis-1"
    # Each host has its own key; a wrong key for a name is refused.
    known = (Lab(LAB).ssh_dir / "known_hosts").read_text().splitlines()
    keys = {line.split()[2] for line in known}
    assert len(keys) == len(known)
    lab = Lab(LAB)
    entries = {line.split()[0].split(",")[0]: line for line in known}
    wrong_key = entries["dss-1.weihai"].split(" ", 1)[1]
    forged = entries["mis-1.weihai"].split(" ", 1)[0] + " " + wrong_key
    bad = lab.ssh_dir / "known_hosts.bad"
    bad.write_text(forged + "\n")
    argv = lab.controller_argv(["ssh", "-F", str(lab.ssh_dir / "ssh_config"), "-o",
                                f"UserKnownHostsFile={bad}", "-o", "ControlPath=none",
                                "mis-1.weihai", "true"])
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "host key" in res.stderr.lower()


def test_up_again_converges_without_duplicates(lab_up):
    def ours() -> list[str]:
        listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        return sorted(n for n in listing.stdout.split() if n.startswith(f"pesdc-{LAB}-"))

    before = ours()
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stderr
    assert "0 created, 0 repaired" in res.stdout
    assert ours() == before and len(before) > 20


def test_up_repairs_a_killed_host(lab_up):
    st = Lab(LAB).nodes()["dss-1"]
    os.kill(st.pid, signal.SIGKILL)
    assert pesdc("lab", "status", "--name", LAB).returncode == 1
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stderr
    assert "1 repaired" in res.stdout
    assert ssh("dss-1.weihai", "hostname").stdout.strip() == "dss-1"


def test_router_runs_frr_with_the_rendered_config(lab_up):
    res = ssh("rt-1.weihai", "show ip route")
    assert res.returncode == 0, res.stderr
    assert "10.50.101.0/27" in res.stdout and "10.50.250.2" in res.stdout


def test_links_carry_the_topology_latency(lab_up):
    lab = Lab(LAB)
    res = subprocess.run(lab.controller_argv(["ping", "-n", "-c", "3", "-i", "0.2",
                                              "10.50.100.65"]),
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
    avg = float(re.search(r"= [\d.]+/([\d.]+)/", res.stdout).group(1))
    assert 4.0 <= avg < 15.0  # wendeng's link is 5 ms round trip


def test_probe_matches_policy_and_catches_a_flushed_firewall(lab_up):
    res = pesdc("lab", "probe", str(LABCITY), "--name", LAB, "--json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    report = json.loads(res.stdout)
    allowed = [p for p in report["probes"] if p["expected"]]
    blocked = [p for p in report["probes"] if not p["expected"]]
    assert len(allowed) >= 10 and len(blocked) >= 20
    assert any(p["why"] == "flow dx-to-mis" and p["observed"] for p in allowed)
    # Every blocked probe is backed by its controls (tests/lab/test_probe_controls.py).
    assert report["errors"] == 0
    assert all(p["verdict"] == "pass" and "source " in p["evidence"] for p in blocked)
    flush = lab_exec("fw-1", "nft", "flush", "ruleset")
    assert flush.returncode == 0, flush.stderr
    try:
        res = pesdc("lab", "probe", str(LABCITY), "--name", LAB, "--json")
        assert res.returncode == 1
        flushed = json.loads(res.stdout)
        assert flushed["mismatches"] > 0
        assert flushed["errors"] == 0  # both ends worked: the firewall let them through
        assert all(p["verdict"] == "fail" for p in flushed["probes"]
                   if not p["expected"] and p["observed"])
    finally:
        conf = lab_dir(LAB) / "nodes" / "fw-1" / "config" / "nftables.conf"
        assert lab_exec("fw-1", "nft", "-f", str(conf)).returncode == 0
    assert pesdc("lab", "probe", str(LABCITY), "--name", LAB).returncode == 0


def test_without_root_a_clear_message(tmp_path: Path):
    require_lab()
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          *_pesdc_argv(), "lab", "up", str(LABCITY), "--name", "nobodylab"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PESDC_STATE_DIR": str(tmp_path)})
    assert res.returncode == 2
    assert "needs root" in res.stderr and "Traceback" not in res.stderr


def _pesdc_argv() -> list[str]:
    from .conftest import PESDC
    return PESDC


def test_up_converges_a_changed_policy(lab_up, tmp_path: Path):
    import shutil

    changed = tmp_path / "labcity"
    shutil.copytree(LABCITY, changed)
    city = changed / "weihai.yaml"
    flow = "agencies-to-mis, src: wan, dst: production, dst_systems: [pes-mis], " \
           "protocol: tcp, ports: [8080]}"
    assert city.read_text().count(flow) == 1
    city.write_text(city.read_text().replace(flow, flow.replace("[8080]", "[8080, 8081]")))
    servers_before = {n: s.pid for n, s in Lab(LAB).nodes().items() if s.role == "server"}
    try:
        res = pesdc("lab", "up", str(changed), "--name", LAB)
        assert res.returncode == 0, res.stderr
        assert "2 repaired" in res.stdout  # the firewall pair, nothing else
        rules = lab_exec("fw-1", "nft", "list", "ruleset").stdout
        assert "8080, 8081" in rules
        after = {n: s.pid for n, s in Lab(LAB).nodes().items() if s.role == "server"}
        assert after == servers_before  # hosts keep running: only the gear changed
    finally:
        res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
        assert res.returncode == 0 and "2 repaired" in res.stdout


def test_uplink_to_the_province_speaks_ospf(lab_up):
    import time

    deadline = time.monotonic() + 20
    out = ""
    while time.monotonic() < deadline:
        out = ssh("rt-1.weihai", "show ip ospf neighbor").stdout
        if "10.50.254.1" in out and "Full" in out:
            break
        time.sleep(1)
    assert "10.50.254.1" in out and "Full" in out, out
    res = lab_exec("rt-1", "ping", "-n", "-c", "2", "-i", "0.2", "10.50.254.1")
    assert res.returncode == 0, res.stdout + res.stderr
    avg = float(re.search(r"= [\d.]+/([\d.]+)/", res.stdout).group(1))
    assert 5.0 <= avg < 20.0  # the uplink's 6 ms round trip
