"""The part every benchmark shares: run and time a command, check what it did, write the
results file.

A timing of work that failed is no result. Each benchmark runs its command through
:func:`run` (or :func:`pesdc`), then checks the exit code *and* the output with a
:class:`Checks` (``checks.exited(run)``, ``checks.check(cond, reason)``); the results
file says ``"passed": false`` with every failed check under ``"failures"``, and the
benchmark exits 1 (:func:`finish`).

Every results file has the same top-level fields: ``benchmark``, ``date`` (UTC, ISO
8601), ``machine``, ``load_avg`` (the median of the 1-minute load average sampled at the
end of each timed command: a busy machine inflates wall time), ``load_avg_max``, the
benchmark's own figures (medians of several runs with the runs themselves),
``figures`` (the rows of the README's table: what, target, measured), ``passed`` and
``failures``. ``scripts/readme_figures.py`` writes the README's table from them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = Path(os.environ.get("PESDC_BENCH_RESULTS") or HERE / "results")  # tests: a temp dir
TOPO = ROOT / "topologies"
PESDC = [sys.executable, "-m", "pesdc"]

#: Every lab a benchmark brings up is named bench*: the names other engineers' labs and
#: the lab tests use (tweihai, tvfy, tprb, pv, np, an, au, tclean, tflt, tbk, ...) never
#: start with it, and no benchmark lab name is another's prefix (``lab down`` removes the
#: namespaces ``pesdc-<lab>-*``).
LAB_PREFIX = "bench"

_LOADS: list[float] = []


def load_avg() -> float:
    """The 1-minute load average now (also kept for the results file)."""
    value = round(os.getloadavg()[0], 2)
    _LOADS.append(value)
    return value


@dataclass
class Run:
    """One finished command: its wall and CPU time, exit code and output."""

    argv: list[str]
    wall_s: float
    cpu_s: float
    exit: int
    stdout: str
    stderr: str
    load_avg: float
    max_rss_mib: float = 0.0

    def tail(self, lines: int = 15) -> str:
        text = "\n".join((self.stdout.strip().splitlines() + self.stderr.strip().splitlines())
                         [-lines:])
        return text[-3000:]

    @property
    def what(self) -> str:
        """The command in a few words, for a failure reason."""
        if self.argv[:len(PESDC)] == PESDC:
            return "pesdc " + " ".join(self.argv[len(PESDC):][:2])
        return " ".join(self.argv[:2])


def run(argv: Sequence[str], *, timeout: float = 3600, cwd: Path = ROOT,
        env: dict[str, str] | None = None) -> Run:
    """Run ``argv`` to its end and time it (wall clock; CPU of the child from
    getrusage). A timeout is an exit code of its own (-9) with the reason in stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    try:
        res = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                             cwd=cwd, env=env)
        code, out, err = res.returncode, res.stdout, res.stderr
    except subprocess.TimeoutExpired as exc:
        code = -9
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
               ) + f"\ntimed out after {timeout:g} s"
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(list(argv), round(wall, 2), round(cpu, 2), code, out, err, load_avg(),
               round(after.ru_maxrss / 1024, 1))


def pesdc(*args: str, timeout: float = 3600, cwd: Path = ROOT) -> Run:
    """``pesdc ARGS`` as a fresh interpreter (start-up included in the time)."""
    return run([*PESDC, *args], timeout=timeout, cwd=cwd)


@dataclass
class Checks:
    """What the timed work must have done; each failed check is a reason in the results."""

    failures: list[str] = field(default_factory=list)

    def check(self, ok: object, reason: str) -> bool:
        if not ok:
            self.failures.append(reason)
            print(f"CHECK FAILED: {reason}", file=sys.stderr)
        return bool(ok)

    def exited(self, r: Run, code: int = 0, what: str = "") -> bool:
        """The command exited with ``code``; otherwise the reason quotes its output."""
        return self.check(r.exit == code, f"{what or r.what} exited {r.exit} (expected "
                          f"{code}): {r.tail(6)}")

    @property
    def passed(self) -> bool:
        return not self.failures


APPLY_SUMMARY = re.compile(r"all (\d+) hosts ok, (\d+) operation\(s\) changed")


def checked_apply(checks: Checks, r: Run, hosts: int, first: bool, what: str) -> int:
    """Check one `pesdc apply`: exit 0, every host ok, something (first run on fresh
    hosts) or nothing (a re-apply) changed. Returns the operations changed (-1: none
    reported)."""
    checks.exited(r, 0, what)
    m = APPLY_SUMMARY.search(r.stdout + r.stderr)
    if not checks.check(m, f"{what}: no 'all {hosts} hosts ok' summary: {r.tail(6)}"):
        return -1
    assert m is not None
    checks.check(int(m.group(1)) == hosts, f"{what}: {m.group(1)} hosts ok, expected {hosts}")
    changed = int(m.group(2))
    if first:
        checks.check(changed > 0, f"{what}: the first apply on fresh hosts changed nothing")
    else:
        checks.check(changed == 0, f"{what}: the re-apply changed {changed} operation(s)")
    return changed


def median(values: Iterable[float]) -> float:
    vals = list(values)
    return round(statistics.median(vals), 2) if vals else 0.0


def summary(values: Iterable[float]) -> dict[str, float]:
    """Median, min and max of several runs (seconds)."""
    vals = list(values)
    if not vals:
        return {"median_s": 0.0, "min_s": 0.0, "max_s": 0.0}
    return {"median_s": median(vals), "min_s": round(min(vals), 2),
            "max_s": round(max(vals), 2)}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        mem = 0
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem / 1024**3, 1),
            "os": platform.platform(), "python": platform.python_version()}


def figure(what: str, measured: str, target: str = "",
           met: bool | None = None) -> dict[str, Any]:
    """One row of the README's table of figures (``met``: the target, when there is one)."""
    return {"what": what, "target": target, "measured": measured,
            "target_met": met if target else None}


def need_root(why: str = "the lab needs root") -> None:
    if os.geteuid() != 0:
        raise SystemExit(f"{why}: run as root")


def lab_name(suffix: str) -> str:
    name = LAB_PREFIX + suffix
    assert name.isalnum(), name
    return name


def finish(name: str, body: dict[str, Any], checks: Checks,
           figures: Sequence[dict[str, Any]] = ()) -> int:
    """Write ``results/NAME.json`` (the common fields around ``body``), print the verdict
    and return the exit status: 1 when a check failed (the work did not do what it
    should: no figure), 2 when the work passed but a figure missed its target, else 0."""
    loads = _LOADS or [load_avg()]
    result: dict[str, Any] = {
        "benchmark": name, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "load_avg": median(loads), "load_avg_max": max(loads),
        **body, "figures": list(figures), "passed": checks.passed,
        "failures": checks.failures}
    RESULTS.mkdir(parents=True, exist_ok=True)
    dest = RESULTS / f"{name}.json"
    dest.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for f in figures:
        print(f"  {f['what']}: {f['measured']}" + (f" (target {f['target']})"
                                                   if f["target"] else ""))
    missed = [f["what"] for f in figures if f.get("target_met") is False]
    verdict = "PASSED" if checks.passed else "FAILED: " + "; ".join(checks.failures)
    if checks.passed and missed:
        verdict += "; target missed: " + "; ".join(missed)
    print(f"{name}: {verdict} (load average {result['load_avg']}) -> {dest}")
    return 1 if not checks.passed else 2 if missed else 0
