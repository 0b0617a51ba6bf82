"""The operator namespace: the engineer's workstation outside the center, whose only
route is to the bastion host (issue 16), and the bastion's sshd that relays to port 22.

One lab of the example city's jinan, up and not provisioned: from the operator the
bastion's sshd answers, any other host of the center is unreachable at once (no route,
the packet never leaves), `ssh -W` through the bastion reaches a database's sshd. The
lab is the session's shared one (``jinan_lab``, tests/shared_labs.py): the same lab is
then applied by tests/verify/test_live_lab.py, whose last test checks that `lab down`
leaves no namespace behind, the operator's included. The sshd_config tests render the
bastion's and a database server's files from the same topology.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pesdc.lab import netns
from pesdc.lab.operator import OPS_NET, operator_argv, operator_ns
from pesdc.lab.runtime import Lab
from pesdc.model import validate
from pesdc.render.context import CenterFacts
from pesdc.render.servers import render_server
from tests.shared_labs import JINAN_LAB, SharedLab

from .conftest import pesdc

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"
LAB = JINAN_LAB  # the session's shared jinan lab (tests/shared_labs.py)
CITY = "jinan"
BASTION, BASTION_ADDR = "jump-1", "10.1.90.103"
DB, DB_ADDR = "misdb-1", "10.1.11.11"  # production zone, behind the firewalls
LOG_ADDR = "10.1.90.101"  # log-1

# Connects from inside a namespace and prints what happened, as JSON.
CONNECT = r"""
import json, socket, sys, time
s = socket.socket()
s.settimeout(5)
t = time.monotonic()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    out = {"ok": True, "banner": s.recv(200).decode(errors="replace")}
except OSError as e:
    out = {"ok": False, "errno": e.errno, "error": str(e)}
out["seconds"] = time.monotonic() - t
print(json.dumps(out))
"""


def in_operator(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(operator_argv(LAB, list(argv)), capture_output=True, text=True,
                          timeout=timeout)


def connect(address: str, port: int = 22) -> dict[str, object]:
    res = in_operator(sys.executable, "-c", CONNECT, address, str(port))
    assert res.returncode == 0, res.stderr
    return dict(json.loads(res.stdout))


@pytest.fixture(scope="module")
def opns(jinan_lab: SharedLab) -> str:
    """The shared jinan lab, up and not provisioned (the lab's own root login is what
    the `ssh -W` test uses; a provisioned server refuses it)."""
    return jinan_lab.fresh()


# ---------------------------------------------------------------- the lab (shared)


@pytest.mark.lab
def test_operator_has_one_route_to_the_bastion(opns: str) -> None:
    state = Lab(LAB).load_state()["operator"]
    assert state["netns"] == operator_ns(LAB) == f"pesdc-{LAB}-ops"
    assert state["bastion"] == BASTION and state["bastion_address"] == BASTION_ADDR
    addr = state["address"]
    # a free address of the bastion's management segment (10.1.90.0/24, its top one)
    assert addr == "10.1.90.254", addr
    assert re.fullmatch(r"198\.18\.\d+\.1", state["peer_address"]), state["peer_address"]
    # ip route: exactly the bastion's /32, no default, nothing else; no IPv6 either.
    res = in_operator("ip", "route")
    assert res.returncode == 0, res.stderr
    assert [" ".join(ln.split()) for ln in res.stdout.splitlines()] == [
        f"{BASTION_ADDR} dev ops0 scope link src {addr}"]
    assert in_operator("ip", "-6", "route").stdout.strip() == ""
    links = in_operator("ip", "-o", "link", "show").stdout
    assert sorted(ln.split(":")[1].strip().split("@")[0] for ln in links.splitlines()) == [
        "lo", "ops0"]
    flags = re.search(r"<([^>]*)>", in_operator("ip", "-o", "link", "show", "lo").stdout)
    assert flags and "UP" in flags.group(1).split(","), "lo is not up"
    # The bastion does not forward and routes the operator back over the pair.
    bastion_ns = state["bastion_ns"]
    fwd = netns.run(netns.ns_exec(bastion_ns, "sysctl", "-n", "net.ipv4.ip_forward"))
    assert fwd.stdout.strip() == "0"
    back = netns.run(["ip", "-n", bastion_ns, "route", "show", f"{addr}/32"]).stdout
    assert f"dev {state['peer_ifname']}" in back


@pytest.mark.lab
def test_the_bastions_sshd_answers_the_operator(opns: str) -> None:
    got = connect(BASTION_ADDR)
    assert got["ok"], got
    assert str(got["banner"]).startswith("SSH-2.0-"), got


@pytest.mark.lab
def test_any_other_host_is_unreachable_at_once(opns: str) -> None:
    for address in (DB_ADDR, "10.1.20.11", LOG_ADDR, "8.8.8.8"):  # db, web-1, log-1, outside
        got = connect(address)
        assert not got["ok"], (address, got)
        assert got["errno"] == errno.ENETUNREACH, (address, got)  # no route: fails here
        assert float(str(got["seconds"])) < 1, (address, got)


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert proc.stdout is not None
    fd, buf, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    while b"\n" not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        buf += chunk
    return buf


@pytest.mark.lab
def test_ssh_w_through_the_bastion_reaches_a_database(opns: str) -> None:
    lab = Lab(LAB)
    # No control master: a master the controller (in the bastion's namespace) opened to
    # the bastion would carry this session without the operator's route being used.
    argv = operator_argv(LAB, [
        "ssh", "-F", str(lab.ssh_dir / "ssh_config"), "-o", "ControlMaster=no",
        "-o", "ControlPath=none", "-o", "BatchMode=yes", "-W", f"{DB_ADDR}:22", BASTION])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        line = _read_line(proc, 20)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    assert line.startswith(b"SSH-2.0-OpenSSH"), (line, proc.stderr.read())


@pytest.mark.lab
def test_lab_operator_command_and_status(opns: str) -> None:
    res = pesdc("lab", "operator", "--lab", LAB, "--", "sh", "-c",
                'echo "$PESDC_INSIDE_OPERATOR"; ip route; exit 7')
    assert res.returncode == 7, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == LAB and len(lines) == 2 and lines[1].startswith(BASTION_ADDR)
    res = pesdc("lab", "status", "--name", LAB, "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    row = next(r for r in json.loads(res.stdout)["nodes"] if r["role"] == "operator")
    assert row["host"] == f"pesdc-{LAB}-ops" and row["state"] == "up"
    assert [r.split()[0] for r in row["routes"]] == [BASTION_ADDR]
    res = pesdc("lab", "status", "--name", LAB)
    assert f"operator namespace pesdc-{LAB}-ops" in res.stdout, res.stdout
    res = pesdc("lab", "operator", "--lab", "opns-none", "--", "true")
    assert res.returncode == 2 and "is not up" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.lab
def test_up_repairs_the_operator(opns: str) -> None:
    netns.delete(operator_ns(LAB))
    res = pesdc("lab", "status", "--name", LAB)
    assert res.returncode == 1, res.stdout
    res = pesdc("lab", "up", str(TOPOLOGIES), "--dc", CITY, "--name", LAB, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert connect(BASTION_ADDR)["ok"]
    assert len(in_operator("ip", "route").stdout.splitlines()) == 1


# `lab down` removes every namespace of the lab, the operator's with them, and its
# files: the last test of tests/verify/test_live_lab.py, which shares this lab
# (test_zz_down_removes_the_operator), and the session's teardown of the shared lab.


# ---------------------------------------------------------------- the bastion's sshd


def _rendered() -> dict[str, str]:
    result = validate([TOPOLOGIES])
    assert not result.report.errors, [d.message for d in result.report.errors]
    dc = result.topology.datacenters[CITY]
    facts = CenterFacts.of(result.topology, dc)
    return {srv.name: render_server(facts, srv)["etc/ssh/sshd_config"] for srv in dc.servers}


def _kv(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, val = line.strip().partition(" ")
            out.setdefault(key, val.strip())
    return out


def test_only_the_bastion_relays_and_only_to_ssh_and_syslog() -> None:
    confs = _rendered()
    bastion = _kv(confs[BASTION])
    assert bastion["AllowTcpForwarding"] == "local"  # -W and ProxyJump; never -R
    assert bastion["PermitOpen"].split() == ["*:22", f"{LOG_ADDR}:514"]
    assert bastion["PermitListen"] == "none"
    for key in ("AllowAgentForwarding", "X11Forwarding", "AllowStreamLocalForwarding",
                "GatewayPorts", "PermitTunnel"):
        assert bastion[key] == "no", key
    others = {name: _kv(text) for name, text in confs.items() if name != BASTION}
    assert len(others) > 20
    for name, conf in others.items():
        assert conf["AllowTcpForwarding"] == "no", name
        assert "PermitOpen" not in conf and "PermitListen" not in conf, name


@pytest.mark.lab  # sshd -t needs /run/sshd: without it only root can make a private one
def test_sshd_accepts_the_bastions_and_a_database_servers_config(tmp_path: Path) -> None:
    from tests.render.test_server_files import _sshd

    sshd = _sshd(tmp_path)
    confs = _rendered()
    effective = {}
    for name in (BASTION, DB):
        conf = tmp_path / f"{name}.sshd_config"
        conf.write_text(confs[name])
        conf.chmod(0o600)
        res = sshd(["-t", "-f", str(conf)])
        assert res.returncode == 0, (name, res.stderr)
        res = sshd(["-T", "-f", str(conf), "-C",
                    f"user=sysadmin,host=ops,addr=10.1.90.50,laddr={BASTION_ADDR},lport=22"])
        assert res.returncode == 0, (name, res.stderr)
        effective[name] = dict(ln.split(" ", 1) for ln in res.stdout.splitlines() if " " in ln)
    assert effective[BASTION]["allowtcpforwarding"] == "local"
    assert effective[BASTION]["permitopen"] == f"*:22 {LOG_ADDR}:514"
    assert effective[BASTION]["permitlisten"] == "none"
    assert effective[BASTION]["allowagentforwarding"] == "no"
    assert effective[BASTION]["x11forwarding"] == "no"
    assert effective[DB]["allowtcpforwarding"] == "no"
    assert effective[DB]["allowagentforwarding"] == "no"


def test_operator_is_a_free_management_address_and_the_pair_rfc2544() -> None:
    """The workstation takes a free address of the bastion's management segment (the
    hardened bastion admits SSH from the management nets only); nothing else has it."""
    from pesdc.lab.operator import operator_plan
    from pesdc.lab.plan import build_plan

    topo = validate([TOPOLOGIES]).topology
    plan = build_plan(topo, CITY, LAB)
    op = operator_plan(plan)
    assert op is not None and op.netns == f"pesdc-{LAB}-ops"
    assert op.bastion == BASTION and op.bastion_address == BASTION_ADDR
    dc = topo.datacenters[CITY]
    seg = next(s for z in dc.zones for s in z.segments
               if ipaddress.ip_address(BASTION_ADDR) in ipaddress.ip_network(s.subnet))
    assert ipaddress.ip_address(op.address) in ipaddress.ip_network(seg.subnet)
    taken = {s.address for s in dc.servers} | {d.mgmt for d in dc.devices} | {
        a.split("/")[0] for n in plan.nodes.values() for i in n.interfaces for a in i.addresses}
    assert op.address not in taken and op.address != seg.gateway
    assert ipaddress.ip_address(op.peer_address) in OPS_NET
    assert len(op.peer_ifname) <= 15 and op.address != op.peer_address
    assert op.route == f"{BASTION_ADDR} dev ops0 scope link src {op.address}"
