"""Provisioning speed: the example city's servers in the lab, pyinfra against Ansible,
same roles and same kind of hosts, side by side in one run (a fresh lab of the city per
engine and run, so each engine starts from fresh hosts).

Checked: lab up exits 0; the first apply exits 0, reports every host ok and changes
something; the re-apply exits 0 and reports every host ok with 0 operations changed.
Targets (issue 5): pyinfra at least 2x faster than Ansible on the first apply; a
re-apply with nothing to change under 15 s for 20 hosts. Run as root (the lab):

    .venv/bin/python benchmarks/bench_provision.py [--dc jinan] [--hosts 20] [--runs 1]

Labs: benchprovpy, benchprovan. Writes benchmarks/results/provision.json; exit 1 when
the work failed, 2 when only a target was missed.
"""

from __future__ import annotations

import argparse
import sys

import benchlib as bl

ENGINES = (("pyinfra", bl.lab_name("provpy")), ("ansible", bl.lab_name("provan")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dc", default="jinan")
    ap.add_argument("--hosts", type=int, default=20, help="servers to apply (--limit)")
    ap.add_argument("--runs", type=int, default=1, help="runs per engine (a fresh lab each)")
    args = ap.parse_args()
    bl.need_root()
    topo = str(bl.TOPO)
    sys.path.insert(0, str(bl.ROOT / "cli"))
    from pesdc.model import validate

    dc = validate([topo]).topology.datacenters[args.dc]
    names = [s.name for s in dc.servers if s.location == "datacenter"][: args.hosts]
    limit = [x for n in names for x in ("--limit", n)]
    checks = bl.Checks()
    checks.check(len(names) == args.hosts, f"{args.dc} has {len(names)} servers in the "
                 f"center, not {args.hosts}")
    engines: dict[str, dict] = {}
    for engine, lab in ENGINES:
        runs = []
        for i in range(args.runs):
            up = bl.pesdc("lab", "up", topo, "--dc", args.dc, "--name", lab, timeout=900)
            try:
                if not checks.exited(up, 0, f"{engine} run {i + 1}: lab up"):
                    break
                first = bl.pesdc("apply", topo, "--dc", args.dc, "--lab", lab, "--engine",
                                 engine, *limit)
                first_changed = bl.checked_apply(checks, first, len(names), True,
                                        f"{engine} run {i + 1}: first apply")
                again = bl.pesdc("apply", topo, "--dc", args.dc, "--lab", lab, "--engine",
                                 engine, *limit)
                again_changed = bl.checked_apply(checks, again, len(names), False,
                                        f"{engine} run {i + 1}: re-apply")
                runs.append({"first_apply_s": first.wall_s, "first_exit": first.exit,
                             "first_changed": first_changed, "reapply_s": again.wall_s,
                             "reapply_exit": again.exit, "reapply_changed": again_changed,
                             "load_avg_after": again.load_avg})
                print(engine, runs[-1])
            finally:
                down = bl.pesdc("lab", "down", "--name", lab, timeout=600)
                checks.exited(down, 0, f"{engine}: lab down")
        engines[engine] = {
            "hosts": len(names), "runs": runs,
            "first_apply_median_s": bl.median(r["first_apply_s"] for r in runs),
            "reapply_median_s": bl.median(r["reapply_s"] for r in runs)}
    py, an = engines["pyinfra"], engines["ansible"]
    ok = bool(py["runs"] and an["runs"])
    speed_first = round(an["first_apply_median_s"] / py["first_apply_median_s"], 2) if ok else 0
    speed_again = round(an["reapply_median_s"] / py["reapply_median_s"], 2) if ok else 0
    body = {"center": args.dc, "engines": engines, "speedup_first": speed_first,
            "speedup_reapply": speed_again,
            "targets": {"speedup_first": 2.0, "reapply_20_hosts_s": 15}}
    n = len(names)
    figures = [
        bl.figure(f"{args.dc.title()}, {n} lab hosts, pyinfra apply: first / nothing to "
                  "change", f"{py['first_apply_median_s']:.1f} s / "
                  f"{py['reapply_median_s']:.1f} s", "re-apply < 15 s for 20 hosts",
                  py["reapply_median_s"] < 15),
        bl.figure(f"the same {n} hosts with ansible-playbook (same roles, fresh lab): first "
                  "/ nothing to change", f"{an['first_apply_median_s']:.1f} s / "
                  f"{an['reapply_median_s']:.1f} s (pyinfra {speed_first:g}x / "
                  f"{speed_again:g}x faster)", "pyinfra >= 2x faster", speed_first >= 2.0),
    ]
    return bl.finish("provision", body, checks, figures)


if __name__ == "__main__":
    sys.exit(main())
