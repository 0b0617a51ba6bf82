#!/usr/bin/env python3
"""Before/after on a shared machine: ``pesdc validate`` of the national tree by two
checkouts of pesdc, run alternately (A, B, A, B, ...) so that both see the same load.

    .venv/bin/python benchmarks/compare_validate.py BEFORE_CLI_DIR AFTER_CLI_DIR [--runs 3]

Each run is a fresh interpreter with PYTHONPATH set to the checkout's ``cli`` folder and
an empty parse cache (cold). Wall and CPU time (user + sys, getrusage of the child) of
each run, their medians and the load average go to results/validate_compare.json;
every run must exit 0 with no problem.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import benchlib as bl
from bench_validate import ensure_tree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tree, manifest = ensure_tree(bl.HERE / "out", 1.0, 1, False)
    checks = bl.Checks()
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for i in range(args.runs):
        for name in ("before", "after"):
            cli = getattr(args, name).resolve()
            with tempfile.TemporaryDirectory(prefix="bench-cmp-") as cache:
                env = {**os.environ, "PYTHONPATH": str(cli), "XDG_CACHE_HOME": cache}
                r = bl.run([*bl.PESDC, "validate", str(tree)], env=env, timeout=900)
            checks.exited(r, 0, f"{name} run {i + 1}")
            checks.check("0 error(s), 0 warning(s)" in r.stderr,
                         f"{name} run {i + 1}: not clean: {r.tail(2)}")
            runs[name].append({"wall_s": r.wall_s, "cpu_s": r.cpu_s, "load_avg": r.load_avg})
            print(f"{name} run {i + 1}: {r.wall_s:.2f} s wall, {r.cpu_s:.2f} s CPU, "
                  f"load {r.load_avg}")
    med = {k: {"median_s": bl.median(r["wall_s"] for r in v),
               "median_cpu_s": bl.median(r["cpu_s"] for r in v), "runs": v}
           for k, v in runs.items()}
    body = {"command": "pesdc validate TREE (cold), before and after alternately",
            "before": {"cli": str(args.before), **med["before"]},
            "after": {"cli": str(args.after), **med["after"]},
            "tree": {k: manifest[k] for k in ("centers", "files", "bytes")}}
    b, a = med["before"]["median_cpu_s"], med["after"]["median_cpu_s"]
    figures = [bl.figure("validate the national tree, before / after (same load, "
                         "alternate runs)", f"{b:.1f} s / {a:.1f} s CPU "
                         f"({med['before']['median_s']:.1f} s / "
                         f"{med['after']['median_s']:.1f} s wall)")]
    return bl.finish("validate_compare", body, checks, figures)


if __name__ == "__main__":
    sys.exit(main())
