"""verify --live offline: the refusal without a target, and the host key preflight
through a real bastion.

The preflight test (marked lab: it needs root, not a lab) runs in a network namespace of
its own (``unshare --net``: loopback only, nothing can leave it). There a real OpenSSH
server is the bastion (port 2222) and every host of the center (port 22 on 127.0.0.X,
one address per server). The live
Target is built directly: its ssh_config sends the hosts' own logins nowhere (a closed
port), its pinned file holds the server's key for every host but two: mis-1 is missing
(an unknown key), dss-1 has another key (a changed one). Both must be an error naming
that, every check of theirs an error, and nothing anywhere a pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_root, require_tool
from tests.verify.conftest import LABCITY, PESDC, ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_verify_without_lab_or_live_refuses():
    res = _run("verify", str(LABCITY))
    assert res.returncode == 2, res.stderr
    assert "refused" in res.stderr and "--lab NAME" in res.stderr \
        and "--live PROFILE" in res.stderr and "Nothing was contacted" in res.stderr
    assert "Traceback" not in res.stderr


def test_verify_with_both_lab_and_live_is_a_usage_error(tmp_path: Path):
    res = _run("verify", str(LABCITY), "--lab", "x", "--live", str(tmp_path / "p.yaml"))
    assert res.returncode == 2 and "not both" in res.stderr
    assert "Traceback" not in res.stderr


def test_verify_live_with_a_missing_profile_is_one_line_exit_2(tmp_path: Path):
    res = _run("verify", str(LABCITY), "--live", str(tmp_path / "none.targets.yaml"))
    assert res.returncode == 2 and "cannot be used" in res.stderr
    assert "Traceback" not in res.stderr


_IN_NETNS = r"""
import json, os, socket, subprocess, sys, time
from pathlib import Path

d = Path(sys.argv[1])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
for name in ("host_ed25519", "client", "other"):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)],
                   check=True)
(d / "authorized_keys").write_text((d / "client.pub").read_text())
(d / "sshd_config").write_text(
    "Port 22\nPort 2222\nListenAddress 0.0.0.0\n"
    f"HostKey {d / 'host_ed25519'}\nPermitRootLogin prohibit-password\n"
    f"AuthorizedKeysFile {d / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
    "AllowTcpForwarding yes\nPermitOpen any\n"
    f"PidFile {d / 'sshd.pid'}\n")
os.makedirs("/run/sshd", exist_ok=True)
sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config")],
                        stderr=open(d / "sshd.log", "w"))
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", 2222), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    from pesdc.model import validate
    from pesdc.targets.target import Endpoint, Target
    from pesdc.verify.run import KEY_CHECK, verify_live

    topo = validate([Path(sys.argv[2])]).topology
    dc = topo.datacenters["weihai"]
    eps = {s.name: Endpoint(s.name, f"127.0.0.{10 + i}", f"{s.name}.weihai", "servers")
           for i, s in enumerate(dc.servers)}
    blob = (d / "host_ed25519.pub").read_text().split()[1]
    other = (d / "other.pub").read_text().split()[1]
    pinned = [f"{ep.address} ssh-ed25519 {other if n == 'dss-1' else blob}"
              for n, ep in eps.items() if n != "mis-1"]
    (d / "known_hosts").write_text("\n".join(pinned) + "\n")
    cfg = d / "ssh_config"
    cfg.write_text(
        "Host pesdc-bastion\n  HostName 127.0.0.1\n  Port 2222\n  User root\n"
        f"  IdentityFile {d / 'client'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n"
        "Host *.weihai\n  HostName 127.0.0.1\n  Port 1\n  BatchMode yes\n"
        "  ConnectTimeout 3\n  StrictHostKeyChecking yes\n"
        f"  UserKnownHostsFile {d / 'known_hosts'}\n")
    target = Target("live", "weihai", None, cfg, d / "client", d / "known_hosts",
                    {"servers": ["pesdc", "root"], "devices": ["admin"],
                     "linux_gear": ["root"]}, "test bastion", timeout=5, parallel=4,
                    endpoints=eps)
    report = verify_live(topo, "weihai", target, ("hosts",))
    print(json.dumps({"key_check": KEY_CHECK, "checks": [c.as_dict() for c in report.checks],
                      "ok": report.ok}))
finally:
    sshd.kill()
    sshd.wait()
"""


@pytest.mark.lab  # root: sshd's privilege separation does not run in a user namespace
def test_a_host_whose_key_is_not_the_pinned_one_is_an_error_and_not_connected(
        tmp_path: Path):
    require_root("a network namespace of its own with a real sshd")
    require_tool("sshd", "openssh-server")
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", _IN_NETNS,
                          str(tmp_path), str(LABCITY)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    checks, key = got["checks"], got["key_check"]
    assert not got["ok"]
    assert not [c for c in checks if c["verdict"] == "pass"]  # nothing observed passes
    keyed = {c["target"]: c for c in checks if c["name"] == key}
    assert sorted(keyed) == ["dss-1.weihai", "mis-1.weihai"], sorted(keyed)
    assert keyed["mis-1.weihai"]["verdict"] == "error"
    assert "host key not pinned" in keyed["mis-1.weihai"]["error"]
    assert keyed["dss-1.weihai"]["verdict"] == "error"
    assert "HOST KEY CHANGED" in keyed["dss-1.weihai"]["error"]
    for host in keyed:  # every one of its checks an error, none connected
        mine = [c for c in checks if c["target"] == host and not c["skipped"]]
        assert len(mine) > 20, mine
        assert all(c["verdict"] == "error" for c in mine)
        own = [c for c in mine if c["name"] != key and c["category"] != "logs"]
        assert all(c["error"].startswith("not connected: " + host.split(".")[0])
                   for c in own), [c["error"] for c in own
                                   if not c["error"].startswith("not connected")][:3]
    # a pinned host was connected to (through its own ssh_config: nowhere): its checks
    # are errors of an unreachable host, not key refusals
    web = [c for c in checks if c["target"] == "web-1.weihai" and not c["skipped"]]
    assert web and all(c["verdict"] == "error" for c in web)
    assert not any("not pinned" in c["error"] or "CHANGED" in c["error"] for c in web)
    assert any("cannot log in" in c["error"] for c in web)


def test_live_probes_need_a_server_at_both_ends_and_a_connectable_one(tmp_path: Path):
    """The live isolation probes start their agents on servers only: a probe from or to
    a zone without one (the agency sites) is an error naming the zone; a server whose
    key was refused starts no agent, and its probes are errors naming it. Every server
    here is refused, so nothing is connected to (no packet leaves)."""
    from pesdc.lab.plan import build_plan
    from pesdc.model import validate
    from pesdc.verify.hosts import Reach
    from pesdc.verify.network import check_isolation_live

    topo = validate([LABCITY]).topology
    plan = build_plan(topo, "weihai", "offline")
    blocked = {n.host: f"{n.name}: HOST KEY CHANGED (test)" for n in plan.nodes.values()
               if n.role == "server"}
    checks = check_isolation_live(topo, plan, Reach(tmp_path / "nowhere", ("pesdc",),
                                                    blocked))
    assert checks and all(c.verdict.value == "error" for c in checks)
    sites = [c for c in checks if "wan" in c.target.split(" -> ")]  # its private network
    assert sites and all("has no server to run a probe agent on" in c.error
                         for c in sites), [c.error for c in sites][:2]
    others = [c for c in checks if c not in sites]
    assert others and all("HOST KEY CHANGED (test)" in c.error for c in others), [
        c.error for c in others if "HOST KEY" not in c.error][:2]
