"""Run every verify check of a center (a lab, or a live center through its bastion),
hosts in parallel.

Verify never stops short: a check function that raises (a timeout, a crash) becomes an
error under its target with the cause, and every other check still runs and is
reported, so the JUnit file is complete."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pesdc.i18n import N_
from pesdc.lab.enter import access
from pesdc.lab.plan import LabPlan, build_plan
from pesdc.localized import LocalizedText as T
from pesdc.model.schema import DeviceKind
from pesdc.model.tree import Topology
from pesdc.progress import Progress, host_label, or_none
from pesdc.provision.desired import desired_state
from pesdc.provision.spec import HostSpec
from pesdc.render.context import CenterFacts
from pesdc.verdict import Verdict
from pesdc.verify import hosts, network
from pesdc.verify.checks import Check, VerifyReport
from pesdc.verify.hosts import Reach, Via

# offsite: the copies this center holds for other centers: its backup servers' dumps
# (异地备份) and its database servers' standbys of their primaries (异地实时备份).
PARTS = ("hosts", "isolation", "policy", "drift", "routing", "links", "offsite")
DRIFT_CHECK = "running configuration equals intended"


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _drift(topo: Topology, dc_name: str, plan: LabPlan | None,
           live: Any = None) -> list[Check]:
    from pesdc.netpush import plan_network

    try:
        run = plan_network(topo, dc_name, plan.lab if plan is not None and live is None
                           else None, plan=plan, live=live)
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


def _policy(plan: LabPlan | None, ssh_config: Via, facts: CenterFacts | None = None
            ) -> list[Check]:
    """The firewalls' running policy against the one the plan rendered for them (a
    live center without stand-ins: its Linux firewalls, rendered from its facts)."""
    if plan is None:
        return _live_policy(facts, ssh_config) if facts is not None else []
    try:
        rendered = plan.gear()
    except Exception as exc:
        return [Check.errored(plan.dc.name, "policy", "policy check could run",
                              f"the firewalls' rendered policy could not be built: "
                              f"{_cause(exc)}")]
    fw = {n: files["nftables.conf"] for n, files in rendered.items()
          if "nftables.conf" in files}
    return network.check_policy(plan, ssh_config, fw)


def _live_policy(facts: CenterFacts, ssh_config: Via) -> list[Check]:
    from pesdc.model.diagnostics import Diagnostic
    from pesdc.platforms import kind_of
    from pesdc.render import render_device_files

    dc = facts.dc
    fw: dict[str, str] = {}
    out: list[Check] = []
    for d in dc.devices:
        if d.kind is not DeviceKind.firewall:
            continue
        host = f"{d.name}.{dc.name}"
        if not kind_of(d).name.startswith("linux"):
            out.append(Check(host, "policy", network.POLICY_CHECK, True, skipped=(
                f"a {kind_of(d).name} firewall: its running configuration is compared "
                "line by line under drift; the nftables read-back is for Linux ones")))
            continue
        problems: list[Diagnostic] = []
        try:
            files = render_device_files(facts, d.name, problems)
        except Exception as exc:
            out.append(Check.errored(host, "policy", network.POLICY_CHECK,
                                     f"its policy could not be rendered: {_cause(exc)}"))
            continue
        if "nftables.conf" in files:
            fw[d.name] = files["nftables.conf"]
        else:
            out.append(Check.errored(host, "policy", network.POLICY_CHECK, "no nftables.conf "
                                     "rendered: " + "; ".join(x.message for x in problems)))
    return out + network.check_policy(None, ssh_config, fw, dc.name)


def _host_spec(topo: Topology, dc_name: str, facts: CenterFacts, server: str,
               lab: bool) -> tuple[HostSpec | None, list[Check]]:
    """The server's HostSpec, derived once for its host and time checks with the center
    facts of the run; without one, nothing can be checked: both are errors with the
    cause."""
    try:
        return desired_state(topo, dc_name, server, lab, facts=facts), []
    except Exception as exc:
        host = f"{server}.{dc_name}"
        return None, [Check.errored(host, "verify", "host checks could run", _cause(exc)),
                      Check.errored(host, "time", "time check could run", _cause(exc))]


def verify_lab(topo: Topology, dc_name: str, lab: str, parts: tuple[str, ...] = PARTS,
               progress: Progress | None = None) -> VerifyReport:
    """Every part of verify on one lab plan: built once here, every part reads it (call
    from inside the lab's controller namespace)."""
    started = time.monotonic()
    plan = build_plan(topo, dc_name, lab)
    acc = access(plan.lab)  # a multi-center lab: the member of the center
    servers = [s.name for s in plan.dc.servers if s.name in plan.nodes]
    report = _verify(topo, dc_name, plan, plan.facts, servers, Reach(acc.ssh_config), parts,
                     progress, None, [])
    report.seconds = round(time.monotonic() - started, 1)
    return report


KEY_CHECK = "host key is the pinned one"
LIVE_LINKS = ("link latency is measured from the center's routers inside the lab's "
              "namespaces; a live run has no such vantage point through the bastion")


def verify_live(topo: Topology, dc_name: str, target: Any, parts: tuple[str, ...] = PARTS,
                progress: Progress | None = None) -> VerifyReport:
    """Every part of verify on a live center through its bastion (``target``, a live
    :class:`pesdc.targets.target.Target`): every host's key is read through the bastion
    and compared with the pinned file first; a host whose key is unknown or changed is
    an error (its message) and none of its checks connect. Isolation probes run their
    agents on the servers over SSH; link latency, measured in the lab's namespaces
    only, is an error: nothing was observed."""
    started = time.monotonic()
    say = or_none(progress)
    dc = topo.datacenters[dc_name]
    # A rehearsal profile (the lab's stand-ins): the lab's plan says what runs there.
    plan = build_plan(topo, dc_name, target.lab) if target.lab else None
    facts = plan.facts if plan is not None else CenterFacts.of(topo, dc)
    say.note(f"checking host keys through {target.label}")
    reachable = [ep for ep in target.endpoints.values() if ep.klass != "devices"]
    bad = target.check_keys(reachable)
    blocked = {target.endpoints[n].host: why for n, why in bad.items()}
    first = [Check.errored(target.endpoints[n].host, "reachability", KEY_CHECK, why,
                           "the pinned key") for n, why in sorted(bad.items())]
    servers = [s.name for s in dc.servers]
    reach = Reach(target.ssh_config, tuple(target.server_users()), blocked)
    report = _verify(topo, dc_name, plan, facts, servers, reach, parts, progress, target,
                     first)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _outcome(checks: list[Check]) -> str:
    """A part's checks as a progress status: ``ok: 12 checks`` or ``failed: ...``."""
    bad = [c for c in checks if c.verdict in (Verdict.failed, Verdict.error)]
    if not bad:
        return T(N_("ok: {count} checks"), count=len(checks))
    return T(N_("failed: {bad} of {count} checks failed or could not observe"), bad=len(bad),
             count=len(checks))


def _told(say: Progress, target: str, category: str, what: str,
          fn: Callable[..., list[Check]], *args: object, **kw: object) -> list[Check]:
    """fn's checks, its start and end told to ``say`` (a raise is told, and raised)."""
    name = host_label(target)
    say.begin(name, f"{category}: {what}", what)
    try:
        checks = fn(*args, **kw)
    except Exception as exc:
        say.step(name, f"{category}: {what}", f"error: {_cause(exc)}", what)
        raise
    say.step(name, f"{category}: {what}", _outcome(checks), what)
    return checks


def _verify(topo: Topology, dc_name: str, plan: LabPlan | None, facts: CenterFacts,
            servers: list[str], reach: Reach, parts: tuple[str, ...],
            progress: Progress | None, live: Any, first: list[Check]) -> VerifyReport:
    say = or_none(progress)
    report = VerifyReport(dc_name)
    report.checks += first
    lab_hosts = plan is not None  # the HostSpecs of lab hosts (a lab, or its stand-ins)
    # (target, category, what, fn, args, kw) of each check to run, gathered first so
    # that the count is known before the first starts
    todo: list[tuple[str, str, str, Callable[..., list[Check]], tuple[object, ...],
                     dict[str, object]]] = []

    def submit(target: str, category: str, what: str, fn: Callable[..., list[Check]],
               *args: object, **kw: object) -> None:
        todo.append((target, category, what, fn, args, kw))

    if "hosts" in parts:
        specs = {}
        for s in servers:
            spec, errors = _host_spec(topo, dc_name, facts, s, lab_hosts)
            report.checks += errors
            if spec is None:
                continue
            specs[s] = spec
            submit(spec.host, "verify", "host checks", hosts.check_host, topo, dc_name,
                   s, reach, spec=spec)
            submit(spec.host, "time", "time check", hosts.check_time, topo, dc_name, s,
                   reach, spec=spec)
        submit(dc_name, "logs", "log delivery check", hosts.check_logs, topo, dc_name,
               reach, servers, specs=specs)
        submit(dc_name, "replication", "replication check", hosts.check_replication,
               topo, dc_name, reach)
        submit(dc_name, "backups", "backup check", hosts.check_backups, topo, dc_name,
               reach)
    if "offsite" in parts:
        from pesdc.verify.offsite import check_offsite

        submit(dc_name, "backups", "off-site backup check", check_offsite, topo,
               dc_name, reach, plan, servers)
    if "routing" in parts:
        if plan is not None:
            submit(dc_name, "routing", "routing check", network.check_routing, topo,
                   plan, reach)
        else:
            submit(dc_name, "routing", "routing check", network.check_routing, topo,
                   None, reach, dc_name)
    if "links" in parts:
        if live is None and plan is not None:
            submit(dc_name, "links", "link check", network.check_links, topo, plan)
        else:
            report.checks.append(Check.errored(
                dc_name, "links", "link latency could be measured",
                f"not observed in a live run: {LIVE_LINKS}"))
    if "policy" in parts:
        submit(dc_name, "policy", "policy check", _policy, plan, reach, facts)
    between = "isolation" in parts and live is None and plan is not None \
        and plan.group is not None
    say.start(len(todo) + ("isolation" in parts) + between + ("drift" in parts),
              T(N_("verify {center}: {count} hosts, parts {parts}"), center=dc_name,
                count=len(servers), parts=", ".join(parts)))
    with ThreadPoolExecutor(max_workers=10) as pool:
        jobs = [(target, category, what, pool.submit(_told, say, target, category, what,
                                                     fn, *args, **kw))
                for target, category, what, fn, args, kw in todo]
        for target, category, what, f in jobs:
            try:
                report.checks += f.result()
            except Exception as exc:  # a check that cannot run is an error, with its cause
                report.checks.append(Check.errored(target, category, f"{what} could run",
                                                   _cause(exc)))
    if "isolation" in parts:
        if live is None and plan is not None:
            report.checks += _guarded(dc_name, "isolation", "isolation probe",
                                      lambda: _told(say, dc_name, "isolation",
                                                    "isolation probe",
                                                    network.check_isolation, topo, plan))
            if plan.group is not None:  # a multi-center lab: between the centers too
                from pesdc.verify.centers import check_between

                report.checks += _guarded(dc_name, "centers", "probe between centers",
                                          lambda: _told(say, dc_name, "centers",
                                                        "probe between centers",
                                                        check_between, topo, plan))
        else:
            report.checks += _guarded(dc_name, "isolation", "isolation probe",
                                      lambda: _told(say, dc_name, "isolation",
                                                    "isolation probe", _live_isolation,
                                                    topo, dc_name, plan, live, reach))
    if "drift" in parts:
        report.checks += _guarded(dc_name, "drift", "drift check",
                                  lambda: _told(say, dc_name, "drift",
                                                "device configurations read",
                                                _drift, topo, dc_name, plan, live))
    return report


def _live_isolation(topo: Topology, dc_name: str, plan: LabPlan | None, live: Any,
                    reach: Reach) -> list[Check]:
    """Isolation by real packets on a live center: the probe agents on its servers over
    SSH through the bastion (network.check_isolation_live). The center's addresses are
    its lab plan's (a rehearsal's own plan; a real center's is built here, for its
    addresses only)."""
    return network.check_isolation_live(topo, plan or build_plan(topo, dc_name, "live"),
                                        reach)
