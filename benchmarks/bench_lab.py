"""Lab speed: `pesdc lab up` of the example stage-3 city after the image is cached, an
idempotent second `lab up`, `pesdc lab down`, and memory per host. Targets (medians):
up < 30 s, down < 10 s.

Checked on every run: each command exits 0; after `lab up` (and again after the second
one) `lab status --json` lists every node of the lab's plan, all of them up, and every
server host runs processes; after `lab down` no namespace of the lab is left and its
state folder is gone.

Run as root: .venv/bin/python benchmarks/bench_lab.py [--runs 3] [--dc jinan]
Lab: benchjinan. Writes benchmarks/results/lab.json; exit 1 when the work failed, 2 when
only a target was missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import benchlib as bl

LAB = bl.lab_name("jinan")


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def state_dir() -> Path:
    sys.path.insert(0, str(bl.ROOT / "cli"))
    from pesdc.lab.paths import lab_dir

    return lab_dir(LAB)


def host_memory(checks: bl.Checks) -> list[int]:
    """RSS (KiB) of the processes of each server host (its whole PID namespace)."""
    state = json.loads((state_dir() / "state.json").read_text())
    per_host = []
    for name, node in state["nodes"].items():
        if node["role"] != "server":
            continue
        pids = subprocess.run(["ip", "netns", "pids", node["netns"]], capture_output=True,
                              text=True).stdout.split()
        checks.check(pids, f"server host {name} runs no process after lab up")
        per_host.append(sum(rss_kib(int(p)) for p in pids))
    return per_host


def all_up(checks: bl.Checks, expected: Counter[str], what: str) -> list[dict[str, Any]]:
    st = bl.pesdc("lab", "status", "--name", LAB, "--json", timeout=120)
    checks.exited(st, 0, f"{what}: lab status")
    try:
        nodes: list[dict[str, Any]] = json.loads(st.stdout)["nodes"]
    except (ValueError, KeyError, TypeError):
        checks.check(False, f"{what}: lab status --json is not its document: {st.tail(4)}")
        return []
    roles = Counter(n["role"] for n in nodes)
    checks.check(roles == expected, f"{what}: lab status lists {dict(roles)}, the plan has "
                 f"{dict(expected)}")
    down = [n["node"] for n in nodes if n["state"] != "up"]
    checks.check(not down, f"{what}: {len(down)} node(s) not up: {down[:6]}")
    return nodes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dc", default="jinan")
    args = ap.parse_args()
    bl.need_root()
    topo = str(bl.TOPO)
    sys.path.insert(0, str(bl.ROOT / "cli"))
    from pesdc.lab.plan import build_plan
    from pesdc.model import validate

    plan = build_plan(validate([topo]).topology, args.dc, LAB)
    expected = Counter(n.role for n in plan.nodes.values())
    checks = bl.Checks()
    rows = []
    for run in range(args.runs):
        up = bl.pesdc("lab", "up", topo, "--dc", args.dc, "--name", LAB, timeout=600)
        row: dict[str, Any] = {"run": run + 1, "up_s": up.wall_s, "up_exit": up.exit}
        try:
            if not checks.exited(up, 0, f"run {run + 1}: lab up"):
                break
            nodes = all_up(checks, expected, f"run {run + 1} after lab up")
            mem = host_memory(checks)
            again = bl.pesdc("lab", "up", topo, "--dc", args.dc, "--name", LAB, timeout=600)
            checks.exited(again, 0, f"run {run + 1}: second lab up")
            all_up(checks, expected, f"run {run + 1} after the second lab up")
            row.update({"nodes": len(nodes), "servers": len(mem),
                        "sites": sum(1 for n in nodes if n["role"] == "site"),
                        "up_again_s": again.wall_s, "up_again_exit": again.exit,
                        "mem_per_host_mib": round(sum(mem) / max(len(mem), 1) / 1024, 2),
                        "load_avg": again.load_avg})
        finally:
            down = bl.pesdc("lab", "down", "--name", LAB, timeout=600)
            row.update({"down_s": down.wall_s, "down_exit": down.exit})
            checks.exited(down, 0, f"run {run + 1}: lab down")
            left = [ns.split()[0] for ns in subprocess.run(
                ["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines()
                if ns.startswith(f"pesdc-{LAB}-")]
            checks.check(not left, f"run {run + 1}: {len(left)} namespace(s) left after lab "
                         f"down: {left[:5]}")
            checks.check(not (state_dir() / "state.json").exists(),
                         f"run {run + 1}: the lab's state.json is left after lab down")
            rows.append(row)
        print(json.dumps(row))
    done = [r for r in rows if "up_again_s" in r]
    up_s = bl.summary(r["up_s"] for r in done)
    again_s = bl.summary(r["up_again_s"] for r in done)
    down_s = bl.summary(r["down_s"] for r in done)
    mem_mib = bl.median(r["mem_per_host_mib"] for r in done)
    body = {"center": args.dc, "lab": LAB, "plan": dict(expected), "runs": rows,
            "up": up_s, "up_again": again_s, "down": down_s, "mem_per_host_mib": mem_mib,
            "targets": {"up_s": 30, "down_s": 10}}
    first = done[0] if done else {"servers": 0, "sites": 0, "nodes": 0}
    routers = expected.get("router", 0) + expected.get("firewall", 0)
    figures = [
        bl.figure(f"lab up, {args.dc.title()} ({first['servers']} servers, {routers} "
                  f"firewalls/routers, {first['sites']} sites, {first['nodes']} nodes)",
                  f"{up_s['median_s']:.1f} s (re-up {again_s['median_s']:.1f} s)", "< 30 s",
                  up_s["median_s"] < 30),
        bl.figure("lab down", f"{down_s['median_s']:.1f} s", "< 10 s",
                  down_s["median_s"] < 10),
        bl.figure("memory per lab host", f"{mem_mib:.0f} MiB"),
    ]
    return bl.finish("lab", body, checks, figures)


if __name__ == "__main__":
    sys.exit(main())
