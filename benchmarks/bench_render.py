"""Render speed on the national tree (benchmarks/gen_national.py) and for one city.

Targets (issue 3): the whole tree under 60 s; one city under 2 s. "One city" is
`pesdc render` given that city's file with the files it needs (its province, the
ministry, the defaults), as an engineer renders the city they roll out.
Writes benchmarks/results/render.json.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_validate import ensure_tree, one_city_paths  # noqa: E402

PESDC = [sys.executable, "-m", "pesdc"]


def timed(args: list[str]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    res = subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        sys.exit(f"render failed:\n{res.stderr[-3000:]}")
    return {"wall_s": round(wall, 2),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime -
                           before.ru_stime, 2),
            "max_rss_mib": round(after.ru_maxrss / 1024, 1),
            "files": int(res.stderr.split("rendered ")[1].split()[0])}


def main() -> None:
    tree, _ = ensure_tree(HERE / "out", 1.0, 1, False)
    with tempfile.TemporaryDirectory() as tmp:
        whole = timed(["render", str(tree), "-o", f"{tmp}/whole"])
        city, paths = one_city_paths(tree)
        city_runs = [timed(["render", *paths, "--dc", city, "-o", f"{tmp}/city{i}"])
                     for i in range(3)]
    best_city = min(r["wall_s"] for r in city_runs)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores",
              "load_avg": round(os.getloadavg()[0], 2), "whole_tree": whole,
              "one_city": {"name": city, "runs": city_runs},
              "targets": {"whole_s": 60, "city_s": 2},
              "passed": whole["wall_s"] < 60 and best_city < 2}
    out = HERE / "results" / "render.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"whole tree: {whole['files']} files in {whole['wall_s']} s "
          f"(cpu {whole['cpu_s']} s, {whole['max_rss_mib']} MiB); one city ({city}): "
          f"{best_city} s")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
