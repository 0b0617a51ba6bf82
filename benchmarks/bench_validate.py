#!/usr/bin/env python3
"""Time ``pesdc validate`` on a generated national tree: wall time and peak memory.

    .venv/bin/python benchmarks/bench_validate.py [--runs 3] [--scale 1.0] [--profile]

The tree is generated once by gen_national.py into benchmarks/out/ (gitignored) and
reused while the generator, scale and seed are unchanged. Each run is a fresh
``pesdc validate`` subprocess (interpreter start-up included), measured with
``/usr/bin/time -v`` when present, else with wall clock and getrusage(RUSAGE_CHILDREN).
One city alone (its file, its province and the ministry, and the defaults files that
apply) is timed too. Results go to benchmarks/results/validate.json.

Exit status: 0 when every full-tree run is under the targets (20 s, 2 GiB) and the tree
validates with 0 errors; 1 otherwise (the figures are printed either way).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_national  # noqa: E402

TIME_TARGET_S = 20.0
RSS_TARGET_BYTES = 2 * 1024**3
GNU_TIME = "/usr/bin/time"


def pesdc_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "pesdc"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("pesdc")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from pesdc.cli.main import main; "
            "sys.argv[0] = 'pesdc'; main()"]


def generator_digest() -> str:
    return hashlib.sha256((HERE / "gen_national.py").read_bytes()).hexdigest()[:16]


def ensure_tree(out_root: Path, scale: float, seed: int,
                regen: bool) -> tuple[Path, dict[str, Any]]:
    """The cached tree for (scale, seed), regenerated when the generator changed."""
    tree = out_root / f"national-s{scale:g}-seed{seed}"
    manifest = tree / "manifest.json"
    digest = generator_digest()
    if not regen and manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("generator") == digest:
            return tree, data
    t0 = time.perf_counter()
    counts = gen_national.generate(tree, scale, seed)
    took = time.perf_counter() - t0
    data = json.loads(manifest.read_text())
    data["generator"] = digest
    data["generate_seconds"] = round(took, 2)
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    print(f"generated {tree} in {took:.1f} s: {gen_national.summary(counts)}")
    return tree, data


def run_once(args: list[str]) -> dict[str, Any]:
    """One subprocess run: wall and CPU seconds, peak RSS bytes, exit code, summary."""
    cmd = [*pesdc_cmd(), "validate", *args]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        use_gnu = os.access(GNU_TIME, os.X_OK)
        full = [GNU_TIME, "-v", "-o", tf.name, *cmd] if use_gnu else cmd
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(full, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of the child (user + system): less sensitive than wall to a busy machine.
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        rss_kib = 0
        if use_gnu:
            text = tf.read()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            rss_kib = int(m.group(1)) if m else 0
            m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
            if m:
                secs = 0.0
                for part in m.group(1).split(":"):
                    secs = secs * 60 + float(part)
                wall = secs
        if not rss_kib:  # max over all children so far: exact only for the largest run
            rss_kib = ru1.ru_maxrss
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    summary = next((ln for ln in reversed(lines) if "error(s)" in ln), "")
    errors = re.match(r"(\d+) error", summary)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "peak_rss_bytes": rss_kib * 1024,
            "exit": proc.returncode, "errors": int(errors.group(1)) if errors else None,
            "summary": summary,
            "stderr_head": lines[:5] if proc.returncode else []}


def one_city_paths(tree: Path) -> tuple[str, list[str]]:
    """The largest full city file, with the files it needs to validate on its own."""
    cities = [f for f in tree.glob("*/*.yaml")
              if f.stem not in ("defaults", f.parent.name) and "\n  stage:" in f.read_text()]
    city = max(cities, key=lambda f: (f.stat().st_size, f.name))
    prov = city.parent
    paths = [tree / "defaults.yaml"]
    if (prov / "defaults.yaml").exists():
        paths.append(prov / "defaults.yaml")
    paths += [tree / "mohrss" / "mohrss.yaml", prov / f"{prov.name}.yaml", city]
    return city.stem, [str(p) for p in paths]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem / 1024**3, 1),
            "os": platform.platform(), "python": platform.python_version()}


def profile(tree: Path, out_root: Path, results: Path, top: int) -> None:
    """cProfile one run; the top functions by own and by cumulative time."""
    import pstats

    prof = out_root / "validate.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), pesdc_cmd()[0],
           "validate", str(tree)]
    subprocess.run(cmd, capture_output=True, check=False)
    out = results / "profile.txt"
    with out.open("w") as fh:
        st = pstats.Stats(str(prof), stream=fh)
        st.strip_dirs()
        fh.write(f"# cProfile of pesdc validate {tree} (profiling inflates times)\n")
        fh.write("\n## by own time (tottime)\n")
        st.sort_stats("tottime").print_stats(top)
        fh.write("\n## by cumulative time\n")
        st.sort_stats("cumulative").print_stats(top)
    print(f"profile: {out} (raw: {prof})")


def fmt_mib(n: int) -> str:
    return f"{n / 1024**2:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="full-tree runs (default 3)")
    ap.add_argument("--scale", type=float, default=1.0, help="tree scale (default 1.0)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "out", help="tree cache folder")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "validate.json")
    ap.add_argument("--regen", action="store_true", help="regenerate the tree")
    ap.add_argument("--profile", action="store_true",
                    help="also cProfile one run into results/profile.txt")
    args = ap.parse_args(argv)

    tree, manifest = ensure_tree(args.out, args.scale, args.seed, args.regen)
    load_before = os.getloadavg()
    runs = []
    for i in range(args.runs):
        r = run_once([str(tree)])
        runs.append(r)
        print(f"run {i + 1}/{args.runs}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
              f"{fmt_mib(r['peak_rss_bytes'])}, exit {r['exit']}: {r['summary']}")
    city, city_paths = one_city_paths(tree)
    city_runs = [run_once(city_paths) for _ in range(max(1, args.runs))]

    load_after = os.getloadavg()
    walls = [r["wall_s"] for r in runs]
    peak = max(r["peak_rss_bytes"] for r in runs)
    clean = all(r["exit"] == 0 and r["errors"] == 0 for r in runs)
    city_clean = all(r["exit"] == 0 for r in city_runs)
    ok_time = max(walls) < TIME_TARGET_S
    ok_mem = peak < RSS_TARGET_BYTES
    passed = clean and city_clean and ok_time and ok_mem

    rows = [
        ("national tree", f"{manifest['centers']} centers, {manifest['sites_total']} sites, "
         f"{manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB", runs),
        (f"one city ({city})", f"{len(city_paths)} files", city_runs),
    ]
    print()
    print(f"{'case':<24} {'input':<50} {'wall med':>8} {'min':>6} {'max':>6} "
          f"{'CPU med':>8} {'peak RSS':>9}")
    for name, what, rs in rows:
        w = [r["wall_s"] for r in rs]
        print(f"{name:<24} {what:<50} {statistics.median(w):>7.2f}s {min(w):>5.2f}s "
              f"{max(w):>5.2f}s {statistics.median(r['cpu_s'] for r in rs):>7.2f}s "
              f"{fmt_mib(max(r['peak_rss_bytes'] for r in rs)):>9}")
    print(f"targets: < {TIME_TARGET_S:g} s and < {fmt_mib(RSS_TARGET_BYTES)} per full run: "
          f"time {'ok' if ok_time else 'MISSED'}, memory {'ok' if ok_mem else 'MISSED'}, "
          f"validation {'clean' if clean and city_clean else 'FAILED'}")
    print(f"load average (1 min) before/after: {load_before[0]:.2f}/{load_after[0]:.2f} "
          f"on {os.cpu_count()} CPUs (a busy machine inflates wall time)")
    for r in [*runs, *city_runs]:
        for line in r["stderr_head"]:
            print(f"  stderr: {line}")

    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_1min": {"before": round(load_before[0], 2),
                              "after": round(load_after[0], 2)},
        "command": "pesdc validate TREE",
        "tree": {k: manifest[k] for k in ("scale", "seed", "centers", "hosted", "sites",
                                          "sites_total", "links", "servers", "devices",
                                          "files", "bytes") if k in manifest},
        "targets": {"wall_s": TIME_TARGET_S, "peak_rss_bytes": RSS_TARGET_BYTES},
        "national": {"runs": runs, "median_s": statistics.median(walls),
                     "min_s": min(walls), "max_s": max(walls),
                     "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
                     "peak_rss_bytes": peak},
        "one_city": {"name": city, "files": city_paths, "runs": city_runs,
                     "median_s": statistics.median(r["wall_s"] for r in city_runs)},
        "passed": passed,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {args.results}")
    if args.profile:
        profile(tree, args.out, args.results.parent, 30)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
