"""Several centers in one lab: `pesdc lab up` and `lab down` of the two-center lab (Jinan
and its province Shandong, every server of both, joined by their city-province uplink),
and `pesdc verify` of each center in it (the parts a lab answers before any apply:
routing, OSPF with the far center included, and isolation, the probes between the two
centers included); beside them the same figures of Jinan alone, measured in the same
run, one after the other.

Checked on every run: each command exits 0; after each `lab up`, `lab status --json`
lists every center's nodes up (and the pair's uplink); verify prints PASS and its JUnit
has cases and zero failures and errors (the pair's Jinan: cases of category centers
too); after `lab down` no namespace of either lab is left.

Run as root: .venv/bin/python benchmarks/bench_multicenter.py [--runs 3]
Labs: benchsolo (Jinan), benchpair (Jinan + Shandong; members benchpair-jinan,
benchpair-shandong). Writes benchmarks/results/multicenter.json; exit 1 when the work
failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl
from bench_verify import junit_counts

SOLO = bl.lab_name("solo")
PAIR = bl.lab_name("pair")
CITY, PROVINCE = "jinan", "shandong"
PARTS = ("--only", "routing", "--only", "isolation")


def left(lab: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [n.split()[0] for n in out.splitlines() if n.startswith(f"pesdc-{lab}-")]


def status_up(checks: bl.Checks, lab: str, what: str) -> int:
    st = bl.pesdc("lab", "status", "--name", lab, "--json", timeout=120)
    checks.exited(st, 0, f"{what}: lab status")
    try:
        data = json.loads(st.stdout)
    except ValueError:
        checks.check(False, f"{what}: lab status --json is not JSON: {st.tail(4)}")
        return 0
    nodes: list[dict[str, Any]] = data["nodes"] if isinstance(data, dict) else data
    down = [n["node"] for n in nodes if n["state"] != "up"]
    checks.check(not down, f"{what}: {len(down)} node(s) not up: {down[:6]}")
    return sum(1 for n in nodes if n["role"] != "link")


def verify(checks: bl.Checks, lab: str, dc: str, out: Path, what: str
           ) -> tuple[float, dict[str, int]]:
    junit = out / f"{lab}-{dc}.xml"
    junit.unlink(missing_ok=True)
    r = bl.pesdc("verify", str(bl.TOPO), "--dc", dc, "--lab", lab, *PARTS, "--junit",
                 str(junit), timeout=1800)
    checks.exited(r, 0, what)
    checks.check("PASS" in r.stdout, f"{what}: no PASS: {r.tail(3)}")
    counts: dict[str, int] = {}
    if junit.is_file():
        counts = junit_counts(junit)
        checks.check(counts["tests"] > 0 and not counts["failures"] and not counts["errors"],
                     f"{what}: JUnit {counts}")
    else:
        checks.check(False, f"{what}: no JUnit written")
    return r.wall_s, counts


def down(checks: bl.Checks, lab: str, run: int) -> float:
    """`lab down`, checked: it exits 0 and leaves no namespace of the lab."""
    r = bl.pesdc("lab", "down", "--name", lab, timeout=900)
    checks.exited(r, 0, f"run {run}: lab down {lab}")
    checks.check(not left(lab), f"run {run}: namespaces of {lab} left")
    return r.wall_s


def one_run(checks: bl.Checks, run: int, out: Path) -> dict[str, Any]:
    topo = str(bl.TOPO)
    row: dict[str, Any] = {"run": run}
    try:
        up = bl.pesdc("lab", "up", topo, "--dc", CITY, "--name", SOLO, timeout=900)
        row["solo_up_s"] = up.wall_s
        if checks.exited(up, 0, f"run {run}: lab up {CITY}"):
            row["solo_nodes"] = status_up(checks, SOLO, f"run {run}: {CITY} alone")
            row["solo_verify_s"], row["solo_junit"] = verify(
                checks, SOLO, CITY, out, f"run {run}: verify {CITY} alone")
    finally:
        row["solo_down_s"] = down(checks, SOLO, run)
    try:
        up = bl.pesdc("lab", "up", topo, "--dc", CITY, "--dc", PROVINCE, "--name", PAIR,
                      timeout=900)
        row["pair_up_s"] = up.wall_s
        row["load_avg"] = up.load_avg
        if checks.exited(up, 0, f"run {run}: lab up {CITY}+{PROVINCE}"):
            checks.check(f"{CITY}/up-shandong" in up.stdout,
                         f"run {run}: the pair is not joined by jinan/up-shandong: "
                         f"{up.tail(3)}")
            row["pair_nodes"] = status_up(checks, PAIR, f"run {run}: the pair")
            for dc in (CITY, PROVINCE):
                row[f"pair_verify_{dc}_s"], row[f"pair_junit_{dc}"] = verify(
                    checks, PAIR, dc, out, f"run {run}: verify {dc} in the pair")
    finally:
        row["pair_down_s"] = down(checks, PAIR, run)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    bl.need_root()
    checks = bl.Checks()
    out = Path(tempfile.mkdtemp(prefix="bench-multicenter-"))  # verify's JUnit files
    rows = []
    for run in range(1, args.runs + 1):
        row = one_run(checks, run, out)
        rows.append(row)
        print(json.dumps(row))
        if not checks.passed:
            break
    keys = ("solo_up_s", "solo_down_s", "solo_verify_s", "pair_up_s", "pair_down_s",
            f"pair_verify_{CITY}_s", f"pair_verify_{PROVINCE}_s")
    done = [r for r in rows if all(k in r for k in keys)]
    s = {k: bl.summary(r[k] for r in done) for k in keys} if done else {}
    body = {"labs": {"solo": SOLO, "pair": PAIR}, "centers": [CITY, PROVINCE],
            "verify_parts": ["routing", "isolation"], "runs": rows, "summary": s}
    figures = []
    if done:
        first = done[0]
        m = {k: v["median_s"] for k, v in s.items()}
        cases = first[f"pair_junit_{CITY}"]["tests"] + first[f"pair_junit_{PROVINCE}"]["tests"]
        figures = [
            bl.figure(f"lab up / down: Jinan + Shandong in one lab ({first['pair_nodes']} "
                      f"nodes) / Jinan alone ({first['solo_nodes']} nodes)",
                      f"{m['pair_up_s']:.1f} s / {m['pair_down_s']:.1f} s; alone "
                      f"{m['solo_up_s']:.1f} s / {m['solo_down_s']:.1f} s"),
            bl.figure(f"verify routing and isolation of both centers in the pair "
                      f"({cases} checks, between centers included) / Jinan alone "
                      f"({first['solo_junit']['tests']} checks)",
                      f"{m[f'pair_verify_{CITY}_s']:.1f} s + "
                      f"{m[f'pair_verify_{PROVINCE}_s']:.1f} s; alone "
                      f"{m['solo_verify_s']:.1f} s"),
        ]
    return bl.finish("multicenter", body, checks, figures)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
