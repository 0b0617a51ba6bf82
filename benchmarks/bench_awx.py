#!/usr/bin/env python3
"""Time ``pesdc export awx`` of the generated national tree: wall time, objects, files,
bytes.

    .venv/bin/python benchmarks/bench_awx.py [--scale 1.0] [--seed 1]

The tree is generated once by gen_national.py into benchmarks/out/ (gitignored; shared
with bench_validate.py) and the export written to benchmarks/out/awx-s<scale>/. One run:
the figure is the size of the export and that it finishes, not a median. Results go to
benchmarks/results/awx_export.json (benchlib's common format).

Checked: exit 0; the MANIFEST lists every file with its SHA-256; awx.yml parses and
holds one execution node per center that has a bastion server, one hop node per
province, one instance group per node plus pesdc-lab.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib as bl  # noqa: E402
from bench_validate import ensure_tree, pesdc_cmd  # noqa: E402

SCM_URL = "https://git.example.invalid/pesdc/national.git"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def tally(out: Path) -> dict[str, Any]:
    """Objects by module, files and bytes of an export folder; MANIFEST problems."""
    plays = yaml.load((out / "awx.yml").read_text(encoding="utf-8"), Loader=_Loader)
    modules: Counter[str] = Counter()
    nodes: Counter[str] = Counter()
    for task in plays[0]["tasks"]:
        [module] = [k for k in task if k.startswith("awx.awx.")]
        modules[module.removeprefix("awx.awx.")] += 1
        if module == "awx.awx.instance":
            nodes[task[module]["node_type"]] += 1
    problems = []
    listed = set()
    for line in (out / "MANIFEST").read_text(encoding="utf-8").splitlines():
        sha, rel = line.split("  ", 1)
        listed.add(rel)
        if hashlib.sha256((out / rel).read_bytes()).hexdigest() != sha:
            problems.append(f"{rel}: SHA-256 differs from the MANIFEST")
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    if on_disk - listed - {"MANIFEST"}:
        problems.append(f"files not in the MANIFEST: {sorted(on_disk - listed)[:5]}")
    return {"objects": sum(modules.values()), "objects_by_module": dict(sorted(
        modules.items())), "nodes": dict(nodes), "files": len(on_disk),
        "bytes": sum((out / p).stat().st_size for p in on_disk), "problems": problems}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--regen", action="store_true", help="generate the tree again")
    args = ap.parse_args()
    out_root = bl.HERE / "out"
    tree, meta = ensure_tree(out_root, args.scale, args.seed, args.regen)
    out = out_root / f"awx-s{args.scale:g}"
    checks = bl.Checks()
    r = bl.run([*pesdc_cmd(), "export", "awx", str(tree), "-o", str(out), "--scm-url",
                SCM_URL, "--force"], timeout=3600)
    load = bl.load_avg()
    checks.exited(r, 0, "pesdc export awx")
    got: dict[str, Any] = tally(out) if r.exit == 0 else {}
    for p in got.get("problems", []):
        checks.check(False, p)
    if got:
        checks.check(got["nodes"].get("hop") == 31,
                     f"expected 31 hop nodes, got {got['nodes'].get('hop')}")
        execs = got["nodes"].get("execution", 0)
        checks.check(got["objects_by_module"].get("instance_group") == execs + 1,
                     "expected one instance group per execution node plus pesdc-lab")
    body = {"command": "pesdc export awx TREE -o OUT --scm-url URL",
            "tree": {"scale": args.scale, "seed": args.seed,
                     "centers": meta.get("centers", meta.get("datacenters"))},
            "wall_s": round(r.wall_s, 2), "cpu_s": round(r.cpu_s, 2),
            "max_rss_mib": r.max_rss_mib, "load_avg_at_end": load,
            **{k: v for k, v in got.items() if k != "problems"}, "stderr_tail": r.tail(3)}
    figures = [bl.figure("pesdc export awx, national tree",
                         f"{r.wall_s:.1f} s, {got.get('objects', 0)} objects, "
                         f"{got.get('files', 0)} files, "
                         f"{got.get('bytes', 0) / 1e6:.1f} MB")]
    return bl.finish("awx_export", body, checks, figures)


if __name__ == "__main__":
    sys.exit(main())
