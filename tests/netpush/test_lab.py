"""pesdc net against a real lab of the small Linux city (lab name `np`): drift an FRR
router and an nftables firewall, plan, apply, post-check, back up, apply again; and
cut the SSH session in the middle of a push and see the device rolled back.
Needs root and the lab base image; every connection runs in the lab's controller
namespace (the CLI re-executes itself there; the cut test uses run_inside)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pesdc.lab import image

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
LAB = "np"
PESDC = [sys.executable, "-m", "pesdc"]


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
