"""Lab speed: `pesdc lab up` of the example stage-3 city after the image is cached,
`pesdc lab down`, and memory per host. Targets: up < 30 s, down < 10 s.

Run as root: .venv/bin/python benchmarks/bench_lab.py [--runs 2]
Writes benchmarks/results/lab.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PESDC = [sys.executable, "-m", "pesdc"]
LAB = "benchjinan"


def timed(*args: str) -> tuple[float, str]:
    t = time.monotonic()
    res = subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return time.monotonic() - t, res.stdout


def rss_kib(pid: int) -> int:
    total = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    total = int(line.split()[1])
    except OSError:
        pass
    return total


def host_memory() -> tuple[int, float]:
    """Mean RSS (KiB) of the processes of each server host (its whole PID namespace)."""
    state = json.loads(Path(f"/var/lib/pesdc/labs/{LAB}/state.json").read_text())
    per_host = []
    for node in state["nodes"].values():
        if node["role"] != "server":
            continue
        pids = subprocess.run(["ip", "netns", "pids", node["netns"]], capture_output=True,
                              text=True).stdout.split()
        per_host.append(sum(rss_kib(int(p)) for p in pids))
    return len(per_host), sum(per_host) / max(len(per_host), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    topo = str(ROOT / "topologies")
    rows = []
    for run in range(args.runs):
        up_s, out = timed("lab", "up", topo, "--dc", "jinan", "--name", LAB)
        hosts, mem = host_memory()
        nodes = json.loads(subprocess.run([*PESDC, "lab", "status", "--name", LAB, "--json"],
                                          capture_output=True, text=True).stdout)
        again_s, _ = timed("lab", "up", topo, "--dc", "jinan", "--name", LAB)
        down_s, _ = timed("lab", "down", "--name", LAB)
        rows.append({"run": run + 1, "nodes": len(nodes), "servers": hosts,
                     "sites": sum(1 for n in nodes if n["role"] == "site"),
                     "up_s": round(up_s, 2), "up_again_s": round(again_s, 2),
                     "down_s": round(down_s, 2), "mem_per_host_mib": round(mem / 1024, 2)})
        print(json.dumps(rows[-1]))
    best_up = min(r["up_s"] for r in rows)
    best_down = min(r["down_s"] for r in rows)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores",
              "load_avg": os.getloadavg()[0], "runs": rows,
              "targets": {"up_s": 30, "down_s": 10},
              "passed": best_up < 30 and best_down < 10}
    out = ROOT / "benchmarks" / "results" / "lab.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"lab up {best_up:.1f} s (target 30), down {best_down:.1f} s (target 10), "
          f"{rows[0]['mem_per_host_mib']} MiB per host")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
