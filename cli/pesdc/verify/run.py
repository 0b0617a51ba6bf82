"""Run every verify check of a center in the lab, hosts in parallel."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pesdc.lab.enter import access
from pesdc.lab.plan import build_plan
from pesdc.lab.runtime import Lab
from pesdc.model.tree import Topology
from pesdc.verify import hosts, network
from pesdc.verify.checks import Check, VerifyReport

PARTS = ("hosts", "isolation", "policy", "drift", "routing", "links")
Progress = Callable[[str], None]


def _drift(topo: Topology, dc_name: str, lab: str) -> list[Check]:
    from pesdc.netpush import plan_network

    try:
        run = plan_network(topo, dc_name, lab)
    except Exception as exc:  # the whole network plan could not run: one failed check
        return [Check(dc_name, "drift", "network devices reachable", False, "plan",
                      str(exc)[:500])]
    out = []
    for h in run.hosts:
        if not h.ok:
            out.append(Check(h.host, "drift", "running configuration readable", False,
                             "readable", h.error or "failed"))
            continue
        diff = str(h.details.get("diff") or "\n".join(h.changes))
        out.append(Check(h.host, "drift", "running configuration equals intended",
                         h.changed == 0, "no difference",
                         "no difference" if h.changed == 0 else f"{h.changed} line(s) differ",
                         diff[:2000]))
    return out


def verify_lab(topo: Topology, dc_name: str, lab: str, parts: tuple[str, ...] = PARTS,
               progress: Progress | None = None) -> VerifyReport:
    started = time.monotonic()
    say = progress or (lambda _m: None)
    plan = build_plan(topo, dc_name, lab)
    acc = access(lab)
    report = VerifyReport(dc_name)
    servers = [s.name for s in plan.dc.servers if s.name in plan.nodes]
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = []
        if "hosts" in parts:
            say(f"checking {len(servers)} hosts")
            futures += [pool.submit(hosts.check_host, topo, dc_name, s, acc.ssh_config)
                        for s in servers]
            futures += [pool.submit(hosts.check_time, topo, dc_name, s, acc.ssh_config)
                        for s in servers]
            futures.append(pool.submit(hosts.check_logs, topo, dc_name, acc.ssh_config,
                                       servers))
            futures.append(pool.submit(hosts.check_replication, topo, dc_name,
                                       acc.ssh_config))
            futures.append(pool.submit(hosts.check_backups, topo, dc_name, acc.ssh_config))
        if "routing" in parts:
            futures.append(pool.submit(network.check_routing, topo, plan, acc.ssh_config))
        if "links" in parts:
            futures.append(pool.submit(network.check_links, topo, plan))
        if "policy" in parts:
            rendered = Lab(lab)._render_gear(topo, plan)
            fw = {n: files["nftables.conf"] for n, files in rendered.items()
                  if "nftables.conf" in files}
            futures.append(pool.submit(network.check_policy, plan, acc.ssh_config, fw))
        for f in futures:
            try:
                report.checks += f.result()
            except Exception as exc:  # a check that cannot run is a failed check
                report.checks.append(Check(dc_name, "verify", "check could run", False,
                                           "completed", f"{type(exc).__name__}: {exc}"[:500]))
    if "isolation" in parts:
        say("probing isolation")
        report.checks += network.check_isolation(topo, plan)
    if "drift" in parts:
        say("reading device configurations")
        report.checks += _drift(topo, dc_name, lab)
    report.seconds = round(time.monotonic() - started, 1)
    return report
