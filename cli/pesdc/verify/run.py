"""Run every verify check of a center in the lab, hosts in parallel.

Verify never stops short: a check function that raises (a timeout, a crash) becomes an
error under its target with the cause, and every other check still runs and is
reported, so the JUnit file is complete."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from pesdc.lab.enter import access
from pesdc.lab.plan import LabPlan, build_plan
from pesdc.model.tree import Topology
from pesdc.provision.desired import desired_state
from pesdc.provision.spec import HostSpec
from pesdc.verify import hosts, network
from pesdc.verify.checks import Check, VerifyReport

PARTS = ("hosts", "isolation", "policy", "drift", "routing", "links")
Progress = Callable[[str], None]
DRIFT_CHECK = "running configuration equals intended"


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _drift(topo: Topology, plan: LabPlan) -> list[Check]:
    from pesdc.netpush import plan_network

    dc_name = plan.dc.name
    try:
        run = plan_network(topo, dc_name, plan.lab, plan=plan)
    except Exception as exc:  # the whole network plan could not run: nothing observed
        return [Check.errored(dc_name, "drift", "network devices reachable",
                              f"the network plan could not run: {_cause(exc)}", "plan")]
    out = []
    for h in run.hosts:
        if not h.ok:
            out.append(Check.errored(h.host, "drift", DRIFT_CHECK, "running configuration "
                                     f"not readable: {h.error or 'failed'}", "no difference"))
            continue
        diff = str(h.details.get("diff") or "\n".join(h.changes))
        out.append(Check(h.host, "drift", DRIFT_CHECK, h.changed == 0, "no difference",
                         "no difference" if h.changed == 0 else f"{h.changed} line(s) differ",
                         diff[:2000]))
    return out


def _guarded(target: str, category: str, what: str, fn: Callable[[], list[Check]]
             ) -> list[Check]:
    """fn's checks, or one error naming what could not run and why."""
    try:
        return fn()
    except Exception as exc:
        return [Check.errored(target, category, f"{what} could run", _cause(exc))]


def _policy(plan: LabPlan, ssh_config: Path) -> list[Check]:
    """The firewalls' running policy against the one the plan rendered for them."""
    try:
        rendered = plan.gear()
    except Exception as exc:
        return [Check.errored(plan.dc.name, "policy", "policy check could run",
                              f"the firewalls' rendered policy could not be built: "
                              f"{_cause(exc)}")]
    fw = {n: files["nftables.conf"] for n, files in rendered.items()
          if "nftables.conf" in files}
    return network.check_policy(plan, ssh_config, fw)


def _host_spec(topo: Topology, plan: LabPlan, server: str) -> tuple[HostSpec | None,
                                                                      list[Check]]:
    """The server's HostSpec, derived once for its host and time checks with the plan's
    center facts; without one, nothing can be checked: both are errors with the cause."""
    try:
        return desired_state(topo, plan.dc.name, server, True, facts=plan.facts), []
    except Exception as exc:
        host = f"{server}.{plan.dc.name}"
        return None, [Check.errored(host, "verify", "host checks could run", _cause(exc)),
                      Check.errored(host, "time", "time check could run", _cause(exc))]


def verify_lab(topo: Topology, dc_name: str, lab: str, parts: tuple[str, ...] = PARTS,
               progress: Progress | None = None) -> VerifyReport:
    """Every part of verify on one lab plan: built once here, every part reads it."""
    started = time.monotonic()
    say = progress or (lambda _m: None)
    plan = build_plan(topo, dc_name, lab)
    acc = access(lab)
    report = VerifyReport(dc_name)
    servers = [s.name for s in plan.dc.servers if s.name in plan.nodes]
    # (target, category, what) of each submitted check: where its error goes if it raises
    jobs: list[tuple[str, str, str, Future[list[Check]]]] = []
    with ThreadPoolExecutor(max_workers=10) as pool:
        def submit(target: str, category: str, what: str, fn: Callable[..., list[Check]],
                   *args: object, **kw: object) -> None:
            jobs.append((target, category, what, pool.submit(fn, *args, **kw)))

        if "hosts" in parts:
            say(f"checking {len(servers)} hosts")
            specs = {}
            for s in servers:
                spec, errors = _host_spec(topo, plan, s)
                report.checks += errors
                if spec is None:
                    continue
                specs[s] = spec
                submit(spec.host, "verify", "host checks", hosts.check_host, topo, dc_name,
                       s, acc.ssh_config, spec=spec)
                submit(spec.host, "time", "time check", hosts.check_time, topo, dc_name, s,
                       acc.ssh_config, spec=spec)
            submit(dc_name, "logs", "log delivery check", hosts.check_logs, topo, dc_name,
                   acc.ssh_config, servers, specs=specs)
            submit(dc_name, "replication", "replication check", hosts.check_replication,
                   topo, dc_name, acc.ssh_config)
            submit(dc_name, "backups", "backup check", hosts.check_backups, topo, dc_name,
                   acc.ssh_config)
        if "routing" in parts:
            submit(dc_name, "routing", "routing check", network.check_routing, topo, plan,
                   acc.ssh_config)
        if "links" in parts:
            submit(dc_name, "links", "link check", network.check_links, topo, plan)
        if "policy" in parts:
            submit(dc_name, "policy", "policy check", _policy, plan, acc.ssh_config)
        for target, category, what, f in jobs:
            try:
                report.checks += f.result()
            except Exception as exc:  # a check that cannot run is an error, with its cause
                report.checks.append(Check.errored(target, category, f"{what} could run",
                                                   _cause(exc)))
    if "isolation" in parts:
        say("probing isolation")
        report.checks += _guarded(dc_name, "isolation", "isolation probe",
                                  lambda: network.check_isolation(topo, plan))
    if "drift" in parts:
        say("reading device configurations")
        report.checks += _guarded(dc_name, "drift", "drift check",
                                  lambda: _drift(topo, plan))
    report.seconds = round(time.monotonic() - started, 1)
    return report
