"""The fault matrix, verify's part (issue 13, point 5): a firewall's ruleset flushed, a
municipal link cut, and a lab node killed while `pesdc verify` runs. Verify names the
fault (errors for the node that cannot be reached, failures for the policy and the
link), exits non-zero, loses nothing (every check of a clean run is in the faulted run's
JUnit file, under the same name), and after the repair the next verify passes.

These run last in the package (file order): each leaves the lab converged again. The
first tests need no lab: verify's checks against hosts that cannot be reached (SSH to a
closed port on 127.0.0.1, so nothing leaves the machine) are errors, never a pass or a
failure, and keep their names.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.verify.conftest import (
    LAB,
    LABCITY,
    PESDC,
    must,
    named,
    pesdc,
    read_junit,
    target_of,
    verify,
)

lab = pytest.mark.lab


def _labcity():
    from pesdc.lab.plan import build_plan
    from pesdc.model import validate

    topo = validate([LABCITY]).topology
    return topo, build_plan(topo, "weihai", "tvfy-offline")


def test_an_unreachable_host_is_errors_under_every_check_name(closed_port: Path):
    from pesdc.verify import hosts

    topo, _ = _labcity()
    checks = hosts.check_host(topo, "weihai", "mis-1", closed_port)
    assert len(checks) > 50  # every check of the host, not one line for all
    real = [c for c in checks if not c.skipped]
    assert all(c.verdict.value == "error" and not c.ok for c in real), \
        [c for c in real if c.verdict.value != "error"]
    assert all("unreachable" in c.error for c in real)
    names = {c.name for c in real}
    assert {"ssh", "cron running", "/etc/ssh/sshd_config",
            "listening ports are exactly the expected set",
            "root is the only account with uid 0"} <= names
    for check in (hosts.check_time(topo, "weihai", "mis-1", closed_port),
                  hosts.check_replication(topo, "weihai", closed_port),
                  hosts.check_logs(topo, "weihai", closed_port, ["mis-1", "dss-1"])):
        assert check and all(c.verdict.value == "error" for c in check), check


def test_unreadable_gear_is_errors_not_failures(closed_port: Path):
    from pesdc.verify import network

    topo, plan = _labcity()
    rendered = {n: "table inet pesdc {\n chain forward {\n }\n}\n"
                for n in ("fw-1", "fw-2", "gk-1")}
    policy = network.check_policy(plan, closed_port, rendered)
    routing = network.check_routing(topo, plan, closed_port)
    assert len(policy) == 3 and len(routing) == 2
    for c in policy + routing:
        assert c.verdict.value == "error" and "exit 255" in c.error, c
    assert {c.name for c in routing} == {"OSPF neighbours Full", "routes to all 3 sites"}


def test_a_command_that_hangs_is_an_error_not_a_crash(tmp_path: Path):
    from pesdc.verify import network

    # An "ssh" that does not answer in time (ProxyCommand sleeps): the timeout is reported.
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  ProxyCommand sleep 4\n  BatchMode yes\n", "utf-8")
    rc, out = network.ssh(config, "fw-1.weihai", "nft -j list ruleset", timeout=1)
    assert rc == network.NO_ANSWER and "no answer within 1 s" in out
    assert network.unobserved(rc, out, "nft")


def _cases(junit: Path) -> set[tuple[str, str]]:
    from xml.etree import ElementTree as ET

    return {(c.get("classname") or "", c.get("name") or "")
            for c in ET.parse(junit).getroot().iter("testcase")}


def _start_verify(junit: Path, *only: str) -> subprocess.Popen[str]:
    args = [*PESDC, "verify", str(LABCITY), "--lab", LAB, "--junit", str(junit)]
    for part in only:
        args += ["--only", part]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_ssh(proc: subprocess.Popen[str], host: str = "", timeout: float = 120
                  ) -> None:
    """Until verify has an ssh client running (to ``host``, when given): it is then at
    work on the hosts, the moment to inject a fault into a running verify."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                argv = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"ssh") and b"-F" in argv and any(
                    a.endswith(f"{host}.weihai".encode()) if host else b"weihai" in a
                    for a in argv):
                return
        time.sleep(0.05)
    raise AssertionError(f"verify never reached {host or 'the hosts'}")


def _finish(proc: subprocess.Popen[str], junit: Path) -> tuple[int, list[dict[str, str]]]:
    out, err = proc.communicate(timeout=900)
    assert "Traceback" not in err, err[-3000:]
    assert junit.is_file(), f"verify wrote no JUnit file: {out[-2000:]}{err[-2000:]}"
    return proc.returncode, read_junit(junit)


def _stray_case(baseline: set[tuple[str, str]], junit: Path) -> set[tuple[str, str]]:
    """Checks of the clean run that the faulted run does not report at all (lost)."""
    # Isolation probe names carry the probe's addresses and reasons, which the probe
    # may plan differently when a node is down: those are compared by zone pair.
    got = _cases(junit)
    pairs = {c for c, _ in got if ".isolation." in c}
    return {(c, n) for c, n in baseline - got
            if not (".isolation." in c and c in pairs)}


@pytest.fixture(scope="module")
def baseline(provisioned: Path) -> set[tuple[str, str]]:
    """The testcases of a clean, passing full verify."""
    junit = provisioned / "faults-baseline.xml"
    res = pesdc("verify", str(LABCITY), "--lab", LAB, "--junit", str(junit))
    assert res.returncode == 0, res.stdout[-3000:]
    return _cases(junit)


@lab
def test_firewall_ruleset_flushed_while_verify_runs(provisioned: Path,
                                                   baseline: set[tuple[str, str]]):
    junit = provisioned / "fault-flush.xml"
    proc = _start_verify(junit)
    try:
        _wait_for_ssh(proc)  # verify is checking hosts: isolation and drift come after
        time.sleep(1)
        assert proc.poll() is None, "verify ended before the fault"
        must("fw-1", "nft flush ruleset")
        rc, failures = _finish(proc, junit)
        assert rc == 1
        # The firewall's running configuration differs from the intended one (drift
        # reads it last), and packets the policy blocks now pass (isolation).
        assert named(failures, "fw-1", "running configuration equals intended")
        assert any(f["kind"] == "failure" and ".isolation." in f["classname"]
                   for f in failures)
        flushed = [f for f in failures if f["classname"].endswith(".fw-1.weihai")]
        assert all(f["kind"] == "failure" for f in flushed), flushed
        assert not _stray_case(baseline, junit)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # The repair: pesdc's own network push restores the intended ruleset.
        res = pesdc("net", "apply", str(LABCITY), "--lab", LAB, "--limit", "fw-1")
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rc, failures = verify(provisioned, "policy", "isolation", "drift")
    assert rc == 0 and not failures, failures


@lab
def test_municipal_link_cut_while_verify_runs(provisioned: Path,
                                              baseline: set[tuple[str, str]]):
    from pesdc.lab.runtime import Lab

    junit = provisioned / "fault-link.xml"
    rt = Lab(LAB).nodes()["rt-1"].netns
    proc = _start_verify(junit, "links", "routing")
    try:
        # Right after verify starts: it is still loading the center and entering the
        # lab (seconds), so the cut lands while it runs and before it pings the sites.
        assert proc.poll() is None
        # l-wendeng, on the center's router
        subprocess.run(["ip", "-n", rt, "link", "set", "eth2", "down"], check=True)
        assert proc.poll() is None, "verify ended before the fault"
        rc, failures = _finish(proc, junit)
        assert rc == 1
        assert named(failures, "wendeng", "site reachable")
        assert all(f["kind"] == "failure" for f in failures), failures
        assert not {target_of(f).split(".")[0] for f in failures} - {"wendeng", "rt-1"}
        want = {c for c in baseline if ".links." in c[0] or ".routing." in c[0]}
        got = _cases(junit)
        lost = {c for c in want - got if not c[0].endswith(".links.wendeng.weihai")}
        assert not lost and any(c[0].endswith(".links.wendeng.weihai") for c in got)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        must("rt-1", "ip link set eth2 up")
    # The link back up: its connected route returns and FRR reinstalls the site's route.
    deadline = time.monotonic() + 60
    while True:
        rc, failures = verify(provisioned, "links", "routing")
        if rc == 0 or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert rc == 0 and not failures, failures


@lab
def test_node_killed_while_verify_runs(provisioned: Path, baseline: set[tuple[str, str]]):
    from pesdc.lab.runtime import Lab

    junit = provisioned / "fault-kill.xml"
    victim = "dss-1"
    proc = _start_verify(junit)
    try:
        pid = Lab(LAB).nodes()[victim].pid
        _wait_for_ssh(proc, victim)  # verify is at work on the victim
        assert proc.poll() is None, "verify ended before the fault"
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # the host's pid namespace and all in it: sshd too
        rc, failures = _finish(proc, junit)
        assert rc == 1
        mine = [f for f in failures if target_of(f) == f"{victim}.weihai"]
        # Errors, not failures: verify could not observe the host, it did not see it bad.
        assert mine and all(f["kind"] == "error" for f in mine), mine
        assert any("unreachable" in f["message"] or "exit 255" in f["message"]
                   for f in mine), mine
        # Nothing lost: every check of a clean run is reported, dss-1's as errors.
        assert not _stray_case(baseline, junit)
        # The other hosts are not blamed (probes to or from dss-1 aside).
        others = [f for f in failures if f["kind"] == "failure"
                  and ".isolation." not in f["classname"]]
        assert not others, others
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The repair: `lab up` restarts the killed node, `apply` brings its services back.
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0 and "1 repaired" in res.stdout, res.stdout + res.stderr
    res = pesdc("apply", str(LABCITY), "--lab", LAB, "--limit", victim, timeout=1200)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rc, failures = verify(provisioned)
    assert rc == 0 and not failures, failures
