"""Benchmark: the example city's whole job in lab mode against the same job in live mode,
where the controller sits outside the center and every connection goes through the
bastion (issue 16).

Lab mode is how `scripts/main-job.sh` runs: the controller shares the bastion's
namespace and connects to every host directly. Live mode is how an engineer runs
against a real center: from the lab's operator namespace (a workstation with one route,
to the bastion host), with a connection profile (`pesdc targets init --stand-ins`),
pinned host keys (`pesdc targets trust`), `--live PROFILE --yes` on every command, so
pyinfra, netmiko and testinfra ride the bastion's multiplexed connection. Each mode
starts from a fresh lab:

    lab:  lab up, apply, apply again, net apply, verify, audit        (--lab)
    live: lab up, targets init + trust, apply, apply again, net apply, verify, audit
                                                                      (--live, outside)

Checked on every run: each command exits 0; the first apply changes every host and the
second changes nothing; net apply reports every device ok; verify's JUnit has zero
failures and errors; the audit has no error rule. verify runs the parts both modes can
observe (`--only hosts isolation policy drift routing`: link latency is measured from
inside the lab's router namespaces, which a live run has no vantage point for).

    .venv/bin/python benchmarks/bench_live.py [--runs 1]    # as root, ~30 min per run

Lab: benchlive. Writes benchmarks/results/live.json; exit 1 when the work failed.
"""

from __future__ import annotations

import argparse
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import benchlib as bl

DC = "jinan"
LAB = bl.lab_name("live")
PARTS = ["--only", "hosts", "--only", "isolation", "--only", "policy", "--only", "drift",
         "--only", "routing"]


def outside(*args: str, timeout: float = 3600) -> bl.Run:
    """A pesdc command in the lab's operator namespace (the workstation outside)."""
    from pesdc.lab.operator import operator_argv

    return bl.run(operator_argv(LAB, [*bl.PESDC, *args]), timeout=timeout)


UNOBSERVABLE_LIVE = "has no server to run a probe agent on"


def verify_clean(checks: bl.Checks, r: bl.Run, junit: Path, what: str, live: bool
                 ) -> dict[str, int]:
    """Zero failures; zero errors in lab mode. In live mode the only errors allowed are
    the probes of a zone with no server to run an agent on (the agency sites): verify
    reports them as errors (not observed) and exits 1, and they are counted here, apart,
    never as passes."""
    try:
        suites = ET.parse(junit).getroot()
    except (OSError, ET.ParseError) as exc:
        checks.check(False, f"{what}: no JUnit report: {exc}")
        return {}
    cases = suites.findall(".//testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    errors = [(c.get("name"), (c.find("error").get("message") or "")  # type: ignore[union-attr]
               + (c.find("error").text or ""))  # type: ignore[union-attr]
              for c in cases if c.find("error") is not None]
    unobserved = [n for n, m in errors if live and UNOBSERVABLE_LIVE in m]
    other = [n for n, m in errors if not (live and UNOBSERVABLE_LIVE in m)]
    checks.check(cases and not failed, f"{what}: {len(failed)} failed: {failed[:10]}")
    checks.check(not other, f"{what}: {len(other)} error(s): {other[:10]}")
    checks.exited(r, 1 if unobserved else 0, what)
    passed = len(cases) - len(failed) - len(errors) - len(suites.findall(".//skipped"))
    return {"checks": len(cases), "passed": passed, "errors_not_observable_live": len(unobserved)}


def audit_clean(checks: bl.Checks, r: bl.Run, junit: Path, what: str) -> None:
    """Exit 0 (pesdc audit exits 1 on a rule it could not assess) and no error rule in
    its JUnit report."""
    checks.exited(r, 0, what)
    try:
        errors = int(ET.parse(junit).getroot().get("errors", "-1"))
    except (OSError, ET.ParseError, ValueError) as exc:
        checks.check(False, f"{what}: no JUnit report: {exc}")
        return
    checks.check(errors == 0, f"{what}: {errors} rule(s) could not be assessed")


def one_mode(checks: bl.Checks, mode: str, tmp: Path, hosts: int) -> dict[str, Any]:
    steps: dict[str, float] = {}
    seen: dict[str, int] = {}
    started = time.monotonic()

    def step(name: str, r: bl.Run) -> bl.Run:
        steps[name] = r.wall_s
        print(f"  {mode} {name}: {r.wall_s} s (exit {r.exit})")
        return r

    topo = str(bl.TOPO)
    bl.pesdc("lab", "down", "--name", LAB, timeout=600)
    if not checks.exited(step("lab up", bl.pesdc("lab", "up", topo, "--dc", DC, "--name",
                                                 LAB, timeout=900)), 0, f"{mode}: lab up"):
        return {"steps": steps}
    try:
        if mode == "lab":
            where = ["--lab", LAB]
            go = bl.pesdc
        else:
            from pesdc.lab.paths import lab_dir

            profile = tmp / f"{DC}.targets.yaml"
            profile.unlink(missing_ok=True)
            checks.exited(step("targets init", bl.pesdc(
                "targets", "init", topo, "--dc", DC, "-o", str(profile), "--identity-file",
                str(lab_dir(LAB) / "ssh" / "id_ed25519"), "--stand-ins", LAB)), 0,
                f"{mode}: targets init")
            checks.exited(step("targets trust", outside("targets", "trust", str(profile),
                                                        topo, "--yes")), 0,
                          f"{mode}: targets trust")
            where = ["--live", str(profile), "--yes"]
            go = outside
        bl.checked_apply(checks, step("apply", go("apply", topo, "--dc", DC, *where)),
                         hosts, True, f"{mode}: apply")
        bl.checked_apply(checks, step("apply again", go("apply", topo, "--dc", DC, *where)),
                         hosts, False, f"{mode}: apply again")
        r = step("net apply", go("net", "apply", topo, "--dc", DC, *where, "--json"))
        checks.exited(r, 0, f"{mode}: net apply")
        junit = tmp / f"verify-{mode}.xml"
        where_v = [w for w in where if w != "--yes"]
        seen = verify_clean(checks, step("verify", go("verify", topo, "--dc", DC, *where_v,
                                                      *PARTS, "--junit", str(junit))),
                            junit, f"{mode}: verify", mode == "live")
        report = tmp / f"audit-{mode}.xml"
        audit_clean(checks, step("audit", go("audit", topo, "--dc", DC, *where_v,
                                             "--format", "junit", "--lang", "en", "-o",
                                             str(report))), report, f"{mode}: audit")
    finally:
        checks.exited(bl.pesdc("lab", "down", "--name", LAB, timeout=600), 0,
                      f"{mode}: lab down")
    return {"steps": steps, "verify": seen, "total_s": round(time.monotonic() - started, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    bl.need_root()
    import sys

    sys.path.insert(0, str(bl.ROOT / "cli"))
    from pesdc.model import validate

    hosts = len(validate([bl.TOPO]).topology.datacenters[DC].servers)
    checks = bl.Checks()
    tmp = Path("/tmp") / f"pesdc-{LAB}"
    tmp.mkdir(exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {"lab": [], "live": []}
    for i in range(args.runs):
        for mode in ("lab", "live"):
            print(f"run {i + 1}, {mode} mode")
            runs[mode].append(one_mode(checks, mode, tmp, hosts))
    lab = bl.summary(r.get("total_s", 0) for r in runs["lab"])
    live = bl.summary(r.get("total_s", 0) for r in runs["live"])
    ratio = round(live["median_s"] / lab["median_s"], 2) if lab["median_s"] else 0
    body = {"city": DC, "lab": LAB, "servers": hosts, "verify_parts": PARTS[1::2],
            "lab_mode": {**lab, "runs": runs["lab"]}, "live_mode": {**live, "runs": runs["live"]},
            "live_over_lab": ratio,
            "note": "total = lab up to audit, the same commands in both modes; live mode adds "
                    "targets init and trust and runs every command from the operator "
                    "namespace with --live (through the bastion)."}
    figs = [bl.figure(f"the example city's job ({hosts} servers): lab mode / live mode "
                      "(outside, through the bastion)",
                      f"{lab['median_s']} s / {live['median_s']} s (live {ratio}x)")]
    return bl.finish("live", body, checks, figs)


if __name__ == "__main__":
    raise SystemExit(main())
