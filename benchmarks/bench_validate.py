#!/usr/bin/env python3
"""Time ``pesdc validate`` on a generated national tree: wall time and peak memory.

    .venv/bin/python benchmarks/bench_validate.py [--runs 3] [--scale 1.0] [--profile]

The tree is generated once by gen_national.py into benchmarks/out/ (gitignored) and
reused while the generator, scale and seed are unchanged. Each run is a fresh
``pesdc validate`` subprocess (interpreter start-up included), measured with
``/usr/bin/time -v`` when present, else with wall clock and getrusage(RUSAGE_CHILDREN).
One city alone (its file, its province and the ministry, and the defaults files that
apply) is timed too, and a copy of that city with a fault put in (a parent not in the
tree). Results go to benchmarks/results/validate.json (benchlib's common format).

Checked: the tree and the city validate with exit 0, "0 error(s), 0 warning(s)" and
every data center loaded; the faulty city exits 1 with exactly the one expected error
(REF001 at datacenter.parent). The cold runs each get an empty parse cache
(XDG_CACHE_HOME); then a copy of the tree is validated once to fill its cache and
again after each edit of one city file ("one file changed"). Exit status: 1 when a
check failed (the results say passed false), 2 when only a target was missed (issue 19:
median CPU time of a cold full-tree run under 5 s, of a one-file-changed run under
1 s; peak RSS under 2 GiB), 0 otherwise; the figures are printed either way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib as bl  # noqa: E402
import gen_national  # noqa: E402

#: Issue 19: cold (no parse cache) under 5 s, one file changed (the rest cached) under
#: 1 s. Judged on the median CPU time (user + sys) of the run: the machine is shared and
#: its load inflates wall time; both are recorded, with the load average.
TIME_TARGET_S = 5.0
CHANGED_TARGET_S = 1.0
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


def run_once(args: list[str], cache: Path | None = None) -> dict[str, Any]:
    """One subprocess run: wall and CPU seconds, peak RSS bytes, exit code, summary.
    ``cache``: the XDG_CACHE_HOME of the run (its parse cache); without it, a new empty
    one (a cold run)."""
    cmd = [*pesdc_cmd(), "validate", *args]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf, \
            tempfile.TemporaryDirectory(prefix="bench-cold-cache-") as cold:
        env = {**os.environ, "XDG_CACHE_HOME": str(cache or cold)}
        env.pop("PESDC_NO_CACHE", None)
        use_gnu = os.access(GNU_TIME, os.X_OK)
        r = bl.run([GNU_TIME, "-v", "-o", tf.name, *cmd] if use_gnu else cmd, timeout=900,
                   env=env)
        wall, rss_kib = r.wall_s, 0
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
            rss_kib = int(r.max_rss_mib * 1024)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    summary = next((ln for ln in reversed(lines) if "error(s)" in ln), "")
    errors = re.match(r"(\d+) error", summary)
    warnings = re.search(r"(\d+) warning", summary)
    return {"wall_s": round(wall, 3), "cpu_s": round(r.cpu_s, 3),
            "peak_rss_bytes": rss_kib * 1024,
            "exit": r.exit, "errors": int(errors.group(1)) if errors else None,
            "warnings": int(warnings.group(1)) if warnings else None,
            "summary": summary, "stderr_head": lines[:5] if r.exit else []}


def check_clean(checks: bl.Checks, what: str, runs: list[dict[str, Any]],
                datacenters: int) -> None:
    """A valid tree: exit 0, 0 errors and 0 warnings, every data center loaded."""
    for i, r in enumerate(runs, 1):
        checks.check(r["exit"] == 0, f"{what} run {i}: validate exited {r['exit']}: "
                     f"{r['stderr_head']}")
        checks.check(r["errors"] == 0 and r["warnings"] == 0,
                     f"{what} run {i}: expected no problem, got {r['summary']!r}")
        checks.check(f"{datacenters} data center(s)" in r["summary"],
                     f"{what} run {i}: expected {datacenters} data center(s) in "
                     f"{r['summary']!r}")


def faulty_city(tree: Path, paths: list[str], dest: Path) -> list[str]:
    """A copy of the one-city files whose city names a parent not in the tree: validate
    must report exactly that (REF001 at datacenter.parent) and exit 1."""
    out = []
    root = Path(os.path.commonpath(paths))  # the one-city copy (one_city_paths)
    for p in map(Path, paths):
        rel = p.relative_to(root)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        text = p.read_text()
        if p == Path(paths[-1]):
            text, n = re.subn(r"(?m)^  parent: \S+$", "  parent: no-such-province", text,
                              count=1)
            assert n == 1, p
        (dest / rel).write_text(text)
        out.append(str(dest / rel))
    return out


def check_faulty(checks: bl.Checks, tree_dir: Path, paths: list[str]) -> dict[str, Any]:
    r = bl.run([*pesdc_cmd(), "validate", *paths, "--format", "json"], cwd=tree_dir)
    found: list[tuple[str, str]] = []
    try:
        doc = json.loads(r.stdout)
        found = [(d["rule"], d["path"]) for d in doc["diagnostics"] if d["severity"] == "error"]
    except (ValueError, KeyError, TypeError) as exc:
        checks.check(False, f"faulty city: validate --format json is not a report: {exc}")
    checks.exited(r, 1, "faulty city: validate")
    checks.check(found == [("REF001", "datacenter.parent")],
                 f"faulty city: expected the one error REF001 at datacenter.parent, got "
                 f"{found}")
    return {"wall_s": r.wall_s, "exit": r.exit, "errors": found}


DOWNLINK_ITF = re.compile(r', \{name: "[^"]+", downlink: "([^"/]+)/[^"]+"\}')


def changed_runs(tree: Path, runs: int, tmp: Path) -> tuple[str, list[dict[str, Any]]]:
    """A copy of the tree validated once to fill its parse cache, then ``runs`` times,
    each after one city file was edited (a comment line added: its bytes change, so it
    alone is parsed again)."""
    copy, cache = tmp / "tree", tmp / "cache"
    shutil.copytree(tree, copy)
    run_once([str(copy)], cache)
    city = sorted(copy.glob("*/*-0[1-9].yaml"))[0]
    out = []
    for i in range(runs):
        with city.open("a") as fh:
            fh.write(f"# edited for run {i + 1}\n")
        out.append(run_once([str(copy)], cache))
    return str(city.relative_to(copy)), out


def one_city_paths(tree: Path) -> tuple[str, list[str]]:
    """The largest full city file, with the files it needs to validate on its own.

    The ministry and the province name the uplinks of every center below them
    (``downlink:``), and a downlink to a center not given is an error (NET005): the
    files are copied beside the tree (``TREE-one-city/``) with the upper ends of the
    centers not given left out, as an engineer trims the context of the city they
    check. The city's own file and its upper end are as generated."""
    cities = [f for f in tree.glob("*/*.yaml")
              if f.stem not in ("defaults", f.parent.name) and "\n  stage:" in f.read_text()]
    city = max(cities, key=lambda f: (f.stat().st_size, f.name))
    prov = city.parent
    paths = [tree / "defaults.yaml"]
    if (prov / "defaults.yaml").exists():
        paths.append(prov / "defaults.yaml")
    paths += [tree / "mohrss" / "mohrss.yaml", prov / f"{prov.name}.yaml", city]
    given = {prov.name, city.stem}
    dest = tree.parent / f"{tree.name}-one-city"
    out = []
    for p in paths:
        copy = dest / p.relative_to(tree)
        copy.parent.mkdir(parents=True, exist_ok=True)
        text = DOWNLINK_ITF.sub(lambda m: m.group(0) if m.group(1) in given else "",
                                p.read_text())
        if not copy.exists() or copy.read_text() != text:
            copy.write_text(text)
        out.append(str(copy))
    return city.stem, out


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
    ap.add_argument("--regen", action="store_true", help="regenerate the tree")
    ap.add_argument("--profile", action="store_true",
                    help="also cProfile one run into results/profile.txt")
    args = ap.parse_args(argv)

    tree, manifest = ensure_tree(args.out, args.scale, args.seed, args.regen)
    checks = bl.Checks()
    runs = []
    for i in range(args.runs):
        r = run_once([str(tree)])
        runs.append(r)
        print(f"run {i + 1}/{args.runs}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
              f"{fmt_mib(r['peak_rss_bytes'])}, exit {r['exit']}: {r['summary']}")
    check_clean(checks, "national tree", runs, manifest["centers"])
    city, city_paths = one_city_paths(tree)
    city_runs = [run_once(city_paths) for _ in range(max(1, args.runs))]
    check_clean(checks, f"one city ({city})", city_runs, 3)
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        faulty = check_faulty(checks, Path(tmp), faulty_city(tree, city_paths, Path(tmp)))
    with tempfile.TemporaryDirectory(prefix="bench-validate-changed-") as tmp:
        edited, changed = changed_runs(tree, args.runs, Path(tmp))
    for i, r in enumerate(changed, 1):
        print(f"one file changed, run {i}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU")
    check_clean(checks, "one file changed", changed, manifest["centers"])

    walls = [r["wall_s"] for r in runs]
    peak = max(r["peak_rss_bytes"] for r in runs)
    med = statistics.median(walls)
    med_cpu = statistics.median(r["cpu_s"] for r in runs)
    changed_cpu = statistics.median(r["cpu_s"] for r in changed)
    changed_wall = statistics.median(r["wall_s"] for r in changed)
    ok_time = med_cpu < TIME_TARGET_S
    ok_mem = peak < RSS_TARGET_BYTES

    rows = [
        ("national tree", f"{manifest['centers']} centers, {manifest['sites_total']} sites, "
         f"{manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB", runs),
        (f"one city ({city})", f"{len(city_paths)} files", city_runs),
        ("one file changed", edited, changed),
    ]
    print()
    print(f"{'case':<24} {'input':<50} {'wall med':>8} {'min':>6} {'max':>6} "
          f"{'CPU med':>8} {'peak RSS':>9}")
    for name, what, rs in rows:
        w = [r["wall_s"] for r in rs]
        print(f"{name:<24} {what:<50} {statistics.median(w):>7.2f}s {min(w):>5.2f}s "
              f"{max(w):>5.2f}s {statistics.median(r['cpu_s'] for r in rs):>7.2f}s "
              f"{fmt_mib(max(r['peak_rss_bytes'] for r in rs)):>9}")
    print(f"faulty city: exit {faulty['exit']}, errors {faulty['errors']}")
    for r in [*runs, *city_runs]:
        for line in r["stderr_head"]:
            print(f"  stderr: {line}")

    provinces = sum(1 for d in tree.iterdir() if d.is_dir() and d.name != "mohrss")
    cities = manifest["centers"] - provinces - 1
    city_med = statistics.median(r["wall_s"] for r in city_runs)
    body = {
        "command": "pesdc validate TREE",
        "tree": {k: manifest[k] for k in ("scale", "seed", "centers", "hosted", "sites",
                                          "sites_total", "links", "servers", "devices",
                                          "files", "bytes") if k in manifest},
        "targets": {"cold_cpu_s": TIME_TARGET_S, "one_file_changed_cpu_s": CHANGED_TARGET_S,
                    "peak_rss_bytes": RSS_TARGET_BYTES},
        "national": {"runs": runs, "median_s": med,
                     "min_s": min(walls), "max_s": max(walls),
                     "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
                     "peak_rss_bytes": peak},
        "one_city": {"name": city, "files": [
                         str(Path(p).relative_to(os.path.commonpath(city_paths)))
                         for p in city_paths],
                     "runs": city_runs, "median_s": city_med},
        "faulty_city": faulty,
        "one_file_changed": {"file": edited, "runs": changed, "median_s": changed_wall,
                             "median_cpu_s": changed_cpu},
    }
    figures = [
        bl.figure(f"validate the national tree (1 ministry, {provinces} provinces, {cities} "
                  f"cities, {manifest['sites_total']:,} sites)",
                  f"{med_cpu:.1f} s CPU ({med:.1f} s wall), {fmt_mib(peak)}",
                  f"< {TIME_TARGET_S:g} s CPU, < 2 GiB", ok_time and ok_mem),
        bl.figure("validate the national tree again, one file changed (parse cache)",
                  f"{changed_cpu:.2f} s CPU ({changed_wall:.2f} s wall)",
                  f"< {CHANGED_TARGET_S:g} s CPU", changed_cpu < CHANGED_TARGET_S),
        bl.figure("validate one city (its files)", f"{city_med:.2f} s"),
    ]
    if args.profile:
        profile(tree, args.out, bl.RESULTS, 30)
    return bl.finish("validate", body, checks, figures)


if __name__ == "__main__":
    sys.exit(main())
