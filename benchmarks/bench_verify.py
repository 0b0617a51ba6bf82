"""Verify speed: full `pesdc verify` of the example city in the lab, several runs on the
same lab (medians), after lab up, the provisioning (pyinfra apply of every server, then
a re-apply with nothing to change: both timed) and the network push. Target (issue 7):
verify under 60 s.

Checked: lab up, apply, re-apply and net apply exit 0; apply reports every server ok
and the re-apply 0 operations changed; every verify run exits 0, prints PASS and writes
a JUnit file with test cases, zero failures and zero errors.

Run as root: .venv/bin/python benchmarks/bench_verify.py [--dc jinan] [--runs 3] [--keep]
Lab: benchverify. Writes benchmarks/results/verify.json; exit 1 when the work failed, 2
when only the target was missed.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import benchlib as bl

LAB = bl.lab_name("verify")
# verify's last line: PASS, or PASS (N passed, M skipped, ...)
VERDICT = re.compile(r"PASS(?: \(([^)]*)\))?$")


def junit_counts(path: Path) -> dict[str, int]:
    """Test cases, failures, errors and skipped in a JUnit file (counted per test case,
    so a wrong total on a suite cannot hide a failing case)."""
    root = ET.parse(path).getroot()
    cases = list(root.iter("testcase"))
    return {"tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
            "suites_failures": sum(int(s.get("failures", 0)) for s in root.iter("testsuite")),
            "suites_errors": sum(int(s.get("errors", 0)) for s in root.iter("testsuite"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dc", default="jinan")
    ap.add_argument("--runs", type=int, default=3, help="verify runs on the lab")
    ap.add_argument("--keep", action="store_true", help="leave the lab up")
    args = ap.parse_args()
    bl.need_root()
    topo = str(bl.TOPO)
    sys.path.insert(0, str(bl.ROOT / "cli"))
    from pesdc.model import validate

    servers = len(validate([topo]).topology.datacenters[args.dc].servers)
    checks = bl.Checks()
    body: dict[str, Any] = {"center": args.dc, "lab": LAB, "servers": servers}
    verifies: list[dict[str, Any]] = []
    try:
        up = bl.pesdc("lab", "up", topo, "--dc", args.dc, "--name", LAB, timeout=900)
        body.update(lab_up_s=up.wall_s, lab_up_exit=up.exit)
        if checks.exited(up, 0, "lab up"):
            first = bl.pesdc("apply", topo, "--dc", args.dc, "--lab", LAB)
            body.update(apply_s=first.wall_s, apply_exit=first.exit,
                        apply_changed=bl.checked_apply(checks, first, servers, True, "apply"))
            again = bl.pesdc("apply", topo, "--dc", args.dc, "--lab", LAB)
            body.update(reapply_s=again.wall_s, reapply_exit=again.exit,
                        reapply_changed=bl.checked_apply(checks, again, servers, False,
                                                    "re-apply"))
            net = bl.pesdc("net", "apply", topo, "--dc", args.dc, "--lab", LAB)
            body.update(net_apply_s=net.wall_s, net_apply_exit=net.exit)
            checks.exited(net, 0, "net apply")
            out = bl.HERE / "out"
            out.mkdir(exist_ok=True)
            for i in range(args.runs):
                junit = out / f"verify{i + 1}.xml"
                junit.unlink(missing_ok=True)
                what = f"verify run {i + 1}"
                r = bl.pesdc("verify", topo, "--dc", args.dc, "--lab", LAB, "--junit",
                             str(junit), timeout=1800)
                checks.exited(r, 0, what)
                lines = r.stdout.strip().splitlines()
                verdict = VERDICT.match(lines[-1].strip()) if lines else None
                checks.check(verdict, f"{what}: the last line is not PASS: {lines[-1:]}")
                counts: dict[str, int] = {}
                try:
                    counts = junit_counts(junit)
                except (OSError, ET.ParseError) as exc:
                    checks.check(False, f"{what}: no readable JUnit file: {exc}")
                if counts and verdict and verdict.group(1):
                    said = {w: int(n) for n, w in re.findall(r"(\d+) (\w+)", verdict.group(1))}
                    checks.check(sum(said.values()) == counts["tests"]
                                 and said.get("skipped", 0) == counts["skipped"],
                                 f"{what}: verify says {verdict.group(1)}; its JUnit has "
                                 f"{counts['tests']} cases, {counts['skipped']} skipped")
                if counts:
                    checks.check(counts["tests"] > 0, f"{what}: the JUnit file has no test")
                    checks.check(counts["failures"] == 0 and counts["suites_failures"] == 0,
                                 f"{what}: JUnit shows {counts['failures']} failure(s)")
                    checks.check(counts["errors"] == 0 and counts["suites_errors"] == 0,
                                 f"{what}: JUnit shows {counts['errors']} error(s)")
                verifies.append({"wall_s": r.wall_s, "exit": r.exit, "junit": counts,
                                 "load_avg": r.load_avg, "summary": lines[-14:]})
                print(what, r.wall_s, "s, exit", r.exit, counts)
    finally:
        if not args.keep:
            down = bl.pesdc("lab", "down", "--name", LAB, timeout=600)
            checks.exited(down, 0, "lab down")
    med = bl.summary(v["wall_s"] for v in verifies)
    checks_n = verifies[0]["junit"].get("tests", 0) if verifies else 0
    skipped = verifies[0]["junit"].get("skipped", 0) if verifies else 0
    body.update(verify={"runs": verifies, **med, "checks": checks_n, "skipped": skipped},
                target_s=60)
    figures = [
        bl.figure(f"verify, {args.dc.title()} ({checks_n:,} checks, {skipped} skipped, zero "
                  "failures and errors)", f"{med['median_s']:.1f} s", "< 60 s",
                  med["median_s"] < 60),
        bl.figure(f"pyinfra apply of {args.dc.title()}'s {servers} lab hosts: first / "
                  "nothing to change", f"{body.get('apply_s', 0):.1f} s / "
                  f"{body.get('reapply_s', 0):.1f} s"),
    ]
    return bl.finish("verify", body, checks, figures)


if __name__ == "__main__":
    sys.exit(main())
