#!/usr/bin/env python3
"""Time a static ``pesdc audit --all`` of the generated national tree (target < 60 s).

    .venv/bin/python benchmarks/bench_audit.py [--runs 1] [--scale 1.0]

The tree is the one bench_validate.py caches in benchmarks/out/ (generated on first
use). Each run is a fresh ``pesdc audit TREE --all --format json`` subprocess
(interpreter start-up and loading included): every center's topology checks, its
servers' and devices' rendered configurations and the checks on them. One city alone
is timed too. Results go to benchmarks/results/audit.json; exit 1 above the target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_validate import ensure_tree, one_city_paths, pesdc_cmd  # noqa: E402

TARGET_S = 60.0


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    res = subprocess.run([*pesdc_cmd(), *args], capture_output=True, text=True)
    return time.perf_counter() - t0, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--regen", action="store_true")
    args = ap.parse_args()
    tree, manifest = ensure_tree(HERE / "out", args.scale, args.seed, args.regen)
    runs = []
    centers = 0
    findings: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        for i in range(args.runs):
            took, res = timed(["audit", str(tree), "--all", "--format", "json", "-o", str(out)])
            if res.returncode != 0:
                print(res.stderr[-3000:], file=sys.stderr)
                return 1
            data = json.loads(out.read_text())
            centers = len(data["centers"])
            for c in data["centers"]:
                for r in c["failed_rules"]:
                    findings[r] = findings.get(r, 0) + 1
            runs.append({"wall_s": round(took, 2), "audit_s": data["seconds"]})
            print(f"run {i + 1}: {took:.1f} s ({centers} centers; audit {data['seconds']} s "
                  "after loading)")
        city, city_paths = one_city_paths(tree)
        took_city, res = timed(["audit", *map(str, city_paths), "--dc", city, "--format",
                                "json", "-o", str(Path(tmp) / "city.json")])
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        print(f"one city: {took_city:.2f} s")
    best = min(r["wall_s"] for r in runs)
    result = {
        "what": "pesdc audit TREE --all (static: topology + rendered configurations)",
        "tree": manifest.get("counts", {}), "centers_audited": centers,
        "runs": runs, "best_wall_s": best, "target_s": TARGET_S, "ok": best < TARGET_S,
        "passed": best < TARGET_S,
        "one_city_s": round(took_city, 2), "findings_by_rule": dict(sorted(findings.items())),
        "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    dest = HERE / "results" / "audit.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(result, indent=2) + "\n")
    print(f"best {best:.1f} s (target {TARGET_S:g} s) -> {dest}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
