"""Provisioning speed: the example city's servers in the lab, pyinfra against Ansible,
same roles and same kind of hosts, side by side in one run (two labs of the same city,
one per engine, so each engine starts from fresh hosts).

Targets (issue 5): pyinfra at least 2x faster than Ansible; a re-apply with nothing to
change under 15 s for 20 hosts. Run as root (the lab):
    .venv/bin/python benchmarks/bench_provision.py [--dc jinan] [--hosts 20]
Writes benchmarks/results/provision.json.
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


def timed(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.monotonic()
    res = subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=3600)
    return round(time.monotonic() - t, 1), res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dc", default="jinan")
    ap.add_argument("--hosts", type=int, default=20, help="servers to apply (--limit)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    topo = str(ROOT / "topologies")
    sys.path.insert(0, str(ROOT / "cli"))
    from pesdc.model import validate

    dc = validate([topo]).topology.datacenters[args.dc]
    names = [s.name for s in dc.servers if s.location == "datacenter"][: args.hosts]
    limit = [x for n in names for x in ("--limit", n)]
    rows = {}
    for engine, lab in (("pyinfra", "bprovpy"), ("ansible", "bprovan")):
        _, res = timed("lab", "up", topo, "--dc", args.dc, "--name", lab)
        if res.returncode != 0:
            sys.exit(res.stderr)
        try:
            first_s, first = timed("apply", topo, "--dc", args.dc, "--lab", lab, "--engine",
                                   engine, *limit)
            again_s, again = timed("apply", topo, "--dc", args.dc, "--lab", lab, "--engine",
                                   engine, *limit)
            rows[engine] = {"hosts": len(names), "load_avg_after": round(os.getloadavg()[0], 2),
                            "first_apply_s": first_s,
                            "first_ok": first.returncode == 0, "reapply_s": again_s,
                            "reapply_ok": again.returncode == 0,
                            "reapply_summary": again.stdout.strip().splitlines()[-1:]}
            print(engine, json.dumps(rows[engine]))
        finally:
            subprocess.run([*PESDC, "lab", "down", "--name", lab], capture_output=True)
    py, an = rows["pyinfra"], rows["ansible"]
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores",
              "load_avg": round(os.getloadavg()[0], 2), "center": args.dc, "engines": rows,
              "speedup_first": round(an["first_apply_s"] / py["first_apply_s"], 2),
              "speedup_reapply": round(an["reapply_s"] / py["reapply_s"], 2),
              "targets": {"speedup": 2.0, "reapply_20_hosts_s": 15}}
    result["passed"] = (result["speedup_first"] >= 2.0 and py["reapply_s"] < 15
                        and py["first_ok"] and an["first_ok"])
    out = ROOT / "benchmarks" / "results" / "provision.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
