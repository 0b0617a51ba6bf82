"""pesdc net against a real lab of the small Linux city (lab name `np`): drift an FRR
router and an nftables firewall, plan, apply, post-check, back up, apply again; and
cut the SSH session in the middle of a push and see the device rolled back; Ctrl-C
(SIGINT) in the middle of `pesdc net apply` and see every device on its backup or on
its new configuration, the run naming which, and the next run converge.
Needs root and the lab base image; every connection runs in the lab's controller
namespace (the CLI re-executes itself there; the cut test uses run_inside)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pesdc.lab import image

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
LAB = "np"
PESDC = [sys.executable, "-m", "pesdc"]
DEVICES = ("fw-1", "fw-2", "gk-1", "rt-1")

pytestmark = pytest.mark.lab


def pesdc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def ns(node: str) -> str:
    return f"pesdc-{LAB}-{node}"


def vtysh(node: str, *cmds: str) -> str:
    argv = ["ip", "netns", "exec", ns(node), "vtysh", "-N", ns(node)]
    for c in cmds:
        argv += ["-c", c]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def nft(node: str, *args: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns(node), "nft", *args],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if not image.is_ready():
        pytest.skip("lab base image not built (pesdc lab image build)")
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stdout + res.stderr
    yield LAB
    down = pesdc("lab", "down", "--name", LAB)
    assert down.returncode == 0, down.stderr


def _hosts(res: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    data = json.loads(res.stdout)
    return {h["host"].split(".")[0]: h for h in data["hosts"]}


def test_drift_plan_apply_and_nothing_left(lab: str) -> None:
    vtysh("rt-1", "configure terminal", "ip route 10.99.0.0/24 10.50.8.1",
          "interface eth1", "description drifted by hand")
    nft("fw-1", "add", "rule", "inet", "pesdc", "forward", "ip", "saddr", "10.9.9.9",
        "accept")

    plan = pesdc("net", "plan", str(LABCITY), "--lab", lab, "--json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    hosts = _hosts(plan)
    assert "no ip route 10.99.0.0/24 10.50.8.1" in hosts["rt-1"]["details"]["remediation"]
    assert "10.9.9.9" in hosts["fw-1"]["details"]["diff"]
    assert hosts["fw-2"]["changed"] == 0 and hosts["gk-1"]["changed"] == 0

    apply = pesdc("net", "apply", str(LABCITY), "--lab", lab, "--json", "--workers", "4")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    hosts = _hosts(apply)
    for dev in ("rt-1", "fw-1"):
        assert hosts[dev]["ok"] and hosts[dev]["changed"] > 0, hosts[dev]
        assert hosts[dev]["details"]["post_check"] == "clean"
        backup = Path(hosts[dev]["details"]["backup"])
        assert backup.is_file() and f"lab-{lab}" in backup.name
    assert "10.99.0.0/24" in Path(hosts["rt-1"]["details"]["backup"]).read_text()
    assert "10.9.9.9" in Path(hosts["fw-1"]["details"]["backup"]).read_text()
    assert "10.99.0.0" not in vtysh("rt-1", "show running-config")
    assert "10.9.9.9" not in nft("fw-1", "list", "ruleset")

    again = pesdc("net", "apply", str(LABCITY), "--lab", lab, "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(h["ok"] and h["changed"] == 0 for h in _hosts(again).values())

    listed = pesdc("net", "backups", "--dc", "weihai", "rt-1")
    assert listed.returncode == 0 and "rt-1" in listed.stdout


def test_cut_session_mid_push_rolls_back(lab: str) -> None:
    from pesdc.lab.enter import run_inside
    from pesdc.netpush.drivers import ConnParams, FrrDriver

    # 40 routes by hand: their removal is a long remediation, pushed 5 lines at a time.
    routes = [f"ip route 10.98.{i}.0/24 10.50.8.1" for i in range(40)]
    vtysh("rt-1", "configure terminal", *routes)
    before = vtysh("rt-1", "show running-config")
    proc = run_inside(lab, [sys.executable, str(Path(__file__).with_name("cut_push.py")),
                            lab, "rt-1", str(LABCITY)], capture_output=True, timeout=300,
                      cwd=str(ROOT))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    res = out["result"]
    assert out["killed"], "no sshd session process was found to kill"
    assert not res["ok"]
    assert "push interrupted" in res["error"] or "failed" in res["error"], res["error"]
    assert res["details"]["rolled_back"] is True, res["error"]
    assert "rolled back to" in res["error"]
    after = vtysh("rt-1", "show running-config")
    norm = FrrDriver(ConnParams("cisco_ios", "unused")).normalise
    backup = Path(res["details"]["backup"]).read_text()
    assert norm(after) == norm(backup) == norm(before)
    assert all(r in after for r in routes)
    # Clean up: the next apply removes the hand-made routes for good.
    fix = pesdc("net", "apply", str(LABCITY), "--lab", lab, "--limit", "rt-1", "--json")
    assert fix.returncode == 0, fix.stdout + fix.stderr


def _running(node: str) -> str:
    from pesdc.netpush.drivers import ConnParams, FrrDriver, NftDriver

    if node.startswith("rt-"):
        return FrrDriver(ConnParams("cisco_ios", "unused")).normalise(
            vtysh(node, "show running-config"))
    return NftDriver(ConnParams("linux", "unused")).normalise(nft(node, "list", "ruleset"))


def _norm(node: str, text: str) -> str:
    from pesdc.netpush.drivers import ConnParams, FrrDriver, NftDriver

    drv = FrrDriver if node.startswith("rt-") else NftDriver
    return drv(ConnParams("linux", "unused")).normalise(text)


def _apply_interrupted(marker: str) -> tuple[int, dict, str, float]:
    """`pesdc net apply` (one device at a time, -v) with SIGINT sent to it the moment
    its log shows ``marker``; returns exit code, JSON, stderr, seconds to exit."""
    with tempfile.TemporaryFile(mode="w+") as out:  # a file: JSON may outgrow a pipe
        proc = subprocess.Popen([*PESDC, "net", "apply", str(LABCITY), "--lab", LAB,
                                 "--json", "-v", "--workers", "1"], stdout=out,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT)
        err: list[str] = []
        sent_at = None
        try:
            assert proc.stderr is not None
            for line in proc.stderr:  # the CLI re-executes itself in place: same PID
                err.append(line)
                if sent_at is None and marker in line:
                    os.kill(proc.pid, signal.SIGINT)
                    sent_at = time.monotonic()
            rc = proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert sent_at is not None, f"never saw {marker!r}:\n{''.join(err)}"
        out.seek(0)
        return rc, json.loads(out.read()), "".join(err), time.monotonic() - sent_at


def test_sigint_mid_push_leaves_each_device_on_backup_or_new(lab: str) -> None:
    from pesdc.netpush.engine import IN_SYNC, NEW, NOT_STARTED, ROLLED_BACK, UNCHANGED
    from pesdc.provision.journal import read

    # rt-1: 60 routes by hand, whose removal is pushed 25 lines a batch (3 batches);
    # fw-1: a rule by hand (its new ruleset loads in one nft transaction).
    routes = [f"ip route 10.96.{i}.0/24 10.50.8.1" for i in range(60)]
    vtysh("rt-1", "configure terminal", *routes)
    nft("fw-1", "add", "rule", "inet", "pesdc", "forward", "ip", "saddr", "10.9.9.7",
        "accept")
    before = {d: _running(d) for d in DEVICES}
    journal_before = len(read())

    # 1. SIGINT after rt-1's first batch: lanes run fw-1, fw-2, gk-1, then rt-1.
    rc, data, err, took = _apply_interrupted("rt-1.weihai: pushing 25/")
    hosts = {h["host"].split(".")[0]: h for h in data["hosts"]}
    assert rc == 130, err
    assert data["interrupted"] == "SIGINT"
    states = {d: hosts[d]["details"]["state"] for d in DEVICES}
    assert states == {"fw-1": NEW, "fw-2": IN_SYNC, "gk-1": IN_SYNC, "rt-1": ROLLED_BACK}, \
        (states, err)
    rt = hosts["rt-1"]
    assert "interrupted by SIGINT during the push after 50 of 60 line(s)" in rt["error"], \
        rt["error"]
    assert rt["details"]["rolled_back"] is True and "rolled back to" in rt["error"]
    # Every device equals its backup or its new configuration, never something between.
    backup_rt = Path(rt["details"]["backup"]).read_text()
    assert _running("rt-1") == _norm("rt-1", backup_rt) == before["rt-1"]
    assert all(r in vtysh("rt-1", "show running-config") for r in routes)
    assert "10.9.9.7" in Path(hosts["fw-1"]["details"]["backup"]).read_text()
    assert "10.9.9.7" not in nft("fw-1", "list", "ruleset")
    # The run names each device's state (stderr summary) and journals each device.
    summary = err.splitlines()[-1]
    assert summary.startswith("pesdc net: interrupted by SIGINT:"), err
    assert "rt-1 on its backup (rolled back, checked)" in summary, summary
    assert "fw-1 on its new configuration" in summary, summary
    assert "SIGINT received: no further device will be started; in flight: rt-1.weihai " \
        "(pushing)" in err, err
    rows = read()[journal_before:]
    pushes = [r for r in rows if r["action"] == "net apply"]
    assert sorted(r["host"].split(".")[0] for r in pushes) == sorted(DEVICES)
    # The automatic rollback of rt-1 is an entry of its own (issue 16).
    assert [r["host"].split(".")[0] for r in rows if r["action"] == "rollback"] == ["rt-1"]
    rt_row = next(r for r in pushes if r["host"].startswith("rt-1"))
    assert rt_row["result"] == "failed" and "state: on its backup" in rt_row["error"]
    plan = pesdc("net", "plan", str(LABCITY), "--lab", lab, "--json")
    planned = _hosts(plan)
    assert all(planned[d]["changed"] == 0 for d in ("fw-1", "fw-2", "gk-1")), plan.stdout
    assert planned["rt-1"]["changed"] == 60  # still on its backup: the same 60 to remove

    # 2. SIGINT while fw-1 (the first device) is still being planned: it is left
    # unchanged and no other device is started.
    nft("fw-1", "add", "rule", "inet", "pesdc", "forward", "ip", "saddr", "10.9.9.8",
        "accept")
    before = {d: _running(d) for d in DEVICES}
    rc, data, err, took2 = _apply_interrupted("fw-1.weihai: planning")
    hosts = {h["host"].split(".")[0]: h for h in data["hosts"]}
    assert rc == 130, err
    states = {d: hosts[d]["details"]["state"] for d in DEVICES}
    assert states == {"fw-1": UNCHANGED, "fw-2": NOT_STARTED, "gk-1": NOT_STARTED,
                      "rt-1": NOT_STARTED}, (states, err)
    assert "interrupted by SIGINT before the push: nothing sent" in hosts["fw-1"]["error"]
    assert {d: _running(d) for d in DEVICES} == before
    assert "10.9.9.8" in Path(hosts["fw-1"]["details"]["backup"]).read_text()
    assert "fw-2, gk-1, rt-1 untouched (not started)" in err.splitlines()[-1], err

    # 3. The next run converges and a plan after it has nothing left.
    again = pesdc("net", "apply", str(LABCITY), "--lab", lab, "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    done = _hosts(again)
    assert done["rt-1"]["details"]["state"] == NEW and done["fw-1"]["details"]["state"] == NEW
    plan = pesdc("net", "plan", str(LABCITY), "--lab", lab, "--json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert all(h["changed"] == 0 for h in _hosts(plan).values()), plan.stdout
    print(f"SIGINT mid-push: exit 130 {took:.1f} s after the signal; "
          f"SIGINT while planning: exit 130 {took2:.1f} s after it")
