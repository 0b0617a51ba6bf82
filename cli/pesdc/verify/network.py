"""Network checks: isolation by real packets, the firewall policy read back from the
devices, configuration drift, routing neighbours and routes, municipal link latency.

All commands reach the gear over SSH (the target's ssh_config: from a lab's controller,
or through a live center's bastion): what an engineer would do against real devices,
not a peek into the namespaces. Isolation probes run their agents in the lab's
namespaces, or (live) on the center's servers over SSH; link latency is measured in
the lab's namespaces only (a live run reports it as an error: not observed).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor

from pesdc.lab.plan import LabPlan
from pesdc.lab.probe import Probe, plan_probes, run_probes
from pesdc.model.schema import DeviceKind, Site
from pesdc.model.tree import Topology
from pesdc.render.context import primary_center_links
from pesdc.verify.centers import far_ends
from pesdc.verify.checks import Check
from pesdc.verify.hosts import Reach, Via, reach_of

NO_ANSWER = -1  # the command did not finish (a timeout) or could not be started


def ssh(ssh_config: Via, host: str, command: str, timeout: float = 30) -> tuple[int, str]:
    """Exit status and output; a timeout or a failure to start ssh is ``NO_ANSWER`` with
    its cause as the output, never an exception: verify reports it, it does not crash.
    A host whose key was refused (``Reach.blocked``) is not connected to: ``NO_ANSWER``
    with the refusal."""
    r = reach_of(ssh_config)
    if host in r.blocked:
        return NO_ANSWER, f"not connected: {r.blocked[host]}"
    try:
        res = subprocess.run(["ssh", "-F", str(r.ssh_config), host, command],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return NO_ANSWER, f"ssh {host} {command!r}: no answer within {timeout:g} s"
    except OSError as exc:
        return NO_ANSWER, f"ssh {host}: could not run ssh: {exc}"
    return res.returncode, res.stdout + res.stderr


def unobserved(rc: int, raw: str, what: str) -> str:
    """Why a command gave no observation ('' when it did): the host could not be reached
    (ssh exit 255), the command did not finish or could not run, or printed nothing."""
    if rc == NO_ANSWER:
        return raw.strip()[-300:]
    if rc == 255:
        return f"{what}: host unreachable (ssh exit 255): {raw.strip()[-300:]}"
    if rc != 0:
        return f"{what}: exit {rc}: {raw.strip()[-300:] or 'no output'}"
    if not raw.strip():
        return f"{what}: no output"
    return ""


def check_isolation(topo: Topology, plan: LabPlan) -> list[Check]:
    """A check per probe (pesdc.lab.probe): blocked only with the controls of the same
    run behind it; a probe without a verdict (its source could not send, its listener
    did not answer, its client crashed) is an error naming that side."""
    probes = plan_probes(topo, plan)
    run_probes(plan, probes)
    return isolation_checks(probes)


def check_isolation_live(topo: Topology, plan: LabPlan, via: Via) -> list[Check]:
    """The same probes on a live center: each agent (listener, client) is started on a
    server over SSH through the bastion (the target's ssh_config, its server accounts:
    sudo for the deploy account), with its JSON on the command line and its answers on
    stdout, as in the lab. ``plan``: the center's addresses (the lab plan of it). The
    gear and the sites run no agent: a probe whose source or destination zone has no
    server is an error naming it; a server whose key was refused or that cannot be
    logged in to starts none, and its probes are errors naming it. The evidence rules
    are the lab's (pesdc.lab.probe): a blocked probe counts only with both ends shown
    working in the same run."""
    r = reach_of(via)
    probes = plan_probes(topo, plan)
    servers = {n.key for n in plan.nodes.values() if n.role == "server"}
    runnable = []
    for p in probes:
        for side, node, zone in (("source", p.src_node, p.src_zone),
                                 ("destination", p.listen_node, p.dst_zone)):
            if node not in servers:
                role = plan.nodes[node].role if node in plan.nodes else "unknown node"
                p.error = (f"{side} zone {zone} has no server to run a probe agent on "
                           f"({node} is a {role}; a live run starts agents on the "
                           "center's servers only): not observed")
                break
        else:
            runnable.append(p)
    nodes = sorted({p.src_node for p in runnable} | {p.listen_node for p in runnable})
    with ThreadPoolExecutor(8) as pool:
        accounts = dict(zip(nodes, pool.map(lambda n: _agent_account(plan.nodes[n].host, r),
                                            nodes), strict=True))

    def runner(node: str, cmd: list[str]) -> list[str]:
        user, why = accounts.get(node) or _agent_account(plan.nodes[node].host, r)
        if user is None:
            raise OSError(why)
        remote = shlex.join(cmd if user == "root" else ["sudo", "-n", *cmd])
        return ["ssh", "-F", str(r.ssh_config), f"{user}@{plan.nodes[node].host}", remote]

    if runnable:
        run_probes(plan, runnable, runner=runner, control_roles=("server",))
    return isolation_checks(probes)


def _agent_account(host: str, r: Reach) -> tuple[str | None, str]:
    """The first account of ``r`` that logs in to ``host`` and may run the agent as root
    (root itself, or sudo without a password); None and why not."""
    if host in r.blocked:
        return None, f"not connected: {r.blocked[host]}"
    last = ""
    for user in r.users:
        test = "true" if user == "root" else "sudo -n true"
        try:
            res = subprocess.run(["ssh", "-F", str(r.ssh_config), f"{user}@{host}", test],
                                 capture_output=True, text=True, timeout=60,
                                 stdin=subprocess.DEVNULL)
        except (subprocess.TimeoutExpired, OSError) as exc:
            return None, f"no probe agent on {host}: ssh as {user}: {exc}"
        if res.returncode == 0:
            return user, ""
        last = f"{user}: {(res.stderr.strip() or f'exit {res.returncode}')[-200:]}"
    return None, f"no probe agent on {host}: cannot log in and run it as root ({last})"


def isolation_checks(probes: list[Probe], category: str = "isolation") -> list[Check]:
    out = []
    for p in probes:
        target = f"{p.src_zone} -> {p.dst_zone}"
        name = f"{p.protocol}/{p.port} {p.src} -> {p.dst} ({p.why})"
        expected = "allowed" if p.expected else "blocked"
        if p.cause:  # the probe's verdict is error
            out.append(Check.errored(target, category, name, p.cause, expected,
                                     p.detail))
            continue
        seen = "passed" if p.observed else "blocked"
        out.append(Check(target, category, name, p.ok, expected, seen, p.evidence))
    return out


_COMMENT = re.compile(r'accept comment "([^"]+)"')


def expected_accepts(rendered: str) -> set[str]:
    forward = rendered.split("chain forward", 1)[1].split("chain output", 1)[0] \
        if "chain forward" in rendered else ""
    return set(_COMMENT.findall(forward))


def _is_stateful_reply(exprs: list[dict]) -> bool:
    """The `ct state established,related accept` rule every ruleset starts with."""
    for e in exprs:
        m = e.get("match", {})
        right = m.get("right")
        if m.get("left", {}).get("ct", {}).get("key") == "state" and isinstance(right, list) \
                and "established" in right:
            return True
    return False


def running_accepts(nft_json: str) -> tuple[set[str], int]:
    """Comments of accept rules in the forward chain, and accept rules with none."""
    data = json.loads(nft_json)
    named, anonymous = set(), 0
    for item in data.get("nftables", []):
        rule = item.get("rule")
        if not rule or rule.get("chain") != "forward" or rule.get("family") != "inet":
            continue
        exprs = rule.get("expr", [])
        if not any("accept" in e for e in exprs) or _is_stateful_reply(exprs):
            continue
        if rule.get("comment"):
            named.add(rule["comment"])
        else:
            anonymous += 1
    return named, anonymous


POLICY_CHECK = "forward policy equals the rendered one"


def check_policy(plan: LabPlan | None, ssh_config: Via, rendered: dict[str, str],
                 center: str = "") -> list[Check]:
    """Each firewall's running forward policy equals the rendered one, rule for rule. A
    ruleset that cannot be read (device unreachable, nft failing, JSON that does not
    parse) is an error; an empty or flushed ruleset is read, and fails. ``plan``: the
    lab's (its stand-ins); None: a live center's own Linux firewalls (``center``)."""
    out = []
    for name, text in sorted(rendered.items()):
        host = plan.nodes[name].host if plan is not None else f"{name}.{center}"
        want = expected_accepts(text)
        expected = f"{len(want)} allow rules, default deny"
        rc, raw = ssh(ssh_config, host, "nft -j list ruleset")
        cause = unobserved(rc, raw, "nft -j list ruleset")
        if not cause:
            try:
                have, anonymous = running_accepts(raw)
            except (ValueError, AttributeError, TypeError) as exc:
                cause = f"nft -j list ruleset: unreadable JSON ({exc}): {raw[:200]}"
        if cause:
            out.append(Check.errored(host, "policy", POLICY_CHECK, cause, expected))
            continue
        missing, extra = sorted(want - have), sorted(have - want)
        ok = not missing and not extra and anonymous == 0
        observed = "as rendered" if ok else "; ".join(
            [f"missing: {', '.join(missing)}"] * bool(missing) +
            [f"extra: {', '.join(extra)}"] * bool(extra) +
            [f"{anonymous} accept rule(s) pesdc did not write"] * bool(anonymous))
        out.append(Check(host, "policy", POLICY_CHECK, ok, expected, observed,
                         "" if ok else _nft_text(ssh_config, host)))
    return out


def _nft_text(ssh_config: Via, host: str) -> str:
    return ssh(ssh_config, host, "nft list chain inet pesdc forward")[1][-1500:]


def check_routing(topo: Topology, plan: LabPlan | None, ssh_config: Via,
                  dc_name: str = "") -> list[Check]:
    """OSPF neighbours Full and a route to every site, read from each router's FRR. No
    answer, or JSON that does not parse, is an error under the check's name. ``plan``:
    the lab's stand-ins; None: a live center's own routers (``dc_name``), where a router
    that does not run FRR is an error (its configuration is compared under drift)."""
    from pesdc.platforms import kind_of

    dc = plan.lab_dc if plan is not None else topo.datacenters[dc_name]
    out: list[Check] = []
    routers = [d for d in dc.devices if d.kind is DeviceKind.router and d.ospf is not None]
    sites = [s for s in dc.sites if s.subnet]
    routes_name = f"routes to all {len(sites)} sites"

    def read(host: str, command: str) -> tuple[dict, str, str]:
        rc, raw = ssh(ssh_config, host, command)
        cause = unobserved(rc, raw, command)
        if cause:
            return {}, raw, cause
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return {}, raw, f"{command}: unreadable JSON ({exc}): {raw.strip()[:200]}"
        if not isinstance(data, dict):
            return {}, raw, f"{command}: not a JSON object: {raw.strip()[:200]}"
        return data, raw, ""

    # A multi-center lab: the far center's own router at the end of an uplink (its
    # router id), instead of a stand-in peer (whose id is its address).
    far = far_ends(topo, plan) if plan is not None else []
    joined = {f.subnet for f in far}  # the uplinks to centers of the lab, by subnet
    for dev in routers:
        host = f"{dev.name}.{dc.name}"
        expected = {d.ospf.router_id or d.loopback or d.mgmt for d in routers
                    if d is not dev and d.ospf is not None}
        expected |= {u.peer_address for u in dc.uplinks for i in dev.interfaces
                     if i.uplink == u.name and u.peer_address and u.subnet not in joined}
        expected |= {f.router_id for f in far if f.router == dev.name}
        want = ", ".join(sorted(x for x in expected if x))
        if plan is None and not kind_of(dev).name.startswith("linux"):
            why = (f"{dev.name} runs {kind_of(dev).name}, not FRR: verify reads OSPF "
                   "neighbours and routes from FRR's JSON only (its running configuration "
                   "is compared under drift)")
            out += [Check.errored(host, "routing", "OSPF neighbours Full", why, want),
                    Check.errored(host, "routing", routes_name, why,
                                  "an installed route to every site subnet")]
            continue
        data, raw, cause = read(host, "show ip ospf neighbor json")
        neighbors = data.get("neighbors", {}) if not cause else {}
        if not cause and not isinstance(neighbors, dict):
            cause = f"show ip ospf neighbor json: no neighbour table: {raw.strip()[:200]}"
        if cause:
            out.append(Check.errored(host, "routing", "OSPF neighbours Full", cause, want,
                                     raw[-1500:]))
        else:
            full = {rid for rid, adj in neighbors.items()
                    if any("Full" in a.get("nbrState", a.get("state", "")) for a in adj)}
            out.append(Check(host, "routing", "OSPF neighbours Full", expected <= full, want,
                             ", ".join(sorted(full)) or "none", raw[-1500:]))
        table, raw, cause = read(host, "show ip route json")
        if cause:
            out.append(Check.errored(host, "routing", routes_name, cause,
                                     "a route to every site subnet", raw[-1500:]))
            continue
        # A route counts when it is in the forwarding table: one configured whose next
        # hop is gone (its link down) is listed too, as not installed.
        missing = [s.name for s in sites if not _installed(table.get(str(s.subnet)))]
        if sites:  # a center without municipal sites has nothing to observe here
            out.append(Check(host, "routing", routes_name, not missing,
                             "an installed route to every site subnet",
                             f"missing: {', '.join(missing)}" if missing else "all installed",
                             "\n".join(f"{s.name} {s.subnet}: "
                                       f"{'installed' if s.name not in missing else 'missing'}"
                                       for s in sites)))
        for f in far:
            if f.router != dev.name:
                continue
            # Direct: installed with the far router's address on this uplink as next hop
            # (another path, through a third center, is not this uplink carrying it).
            via = {p: _installed_hops(table.get(p)) for p in f.prefixes}
            gone = [p for p, hops in via.items() if f.next_hop not in hops]
            out.append(Check(host, "routing", f"routes to center {f.center} over {f.uplink}",
                             not gone, f"an installed route to each of {f.center}'s "
                             f"{len(f.prefixes)} zone subnets via {f.next_hop}",
                             f"not via {f.next_hop}: {', '.join(gone)}" if gone else
                             f"all installed via {f.next_hop}",
                             "\n".join(f"{p}: via {', '.join(hops) or 'none installed'}"
                                       for p, hops in via.items())))
    return out


def _installed_hops(entries: object) -> list[str]:
    """The next-hop addresses of the installed route among FRR's entries for a prefix."""
    if not isinstance(entries, list):
        return []
    return sorted({str(h.get("ip")) for e in entries if isinstance(e, dict)
                   and e.get("installed") is True for h in e.get("nexthops", [])
                   if isinstance(h, dict) and h.get("ip")})


def _installed(entries: object) -> bool:
    """FRR's `show ip route json` entries for one prefix: one of them in the FIB."""
    return isinstance(entries, list) and any(
        isinstance(e, dict) and e.get("installed") is True for e in entries)


def _expected_rtt(topo: Topology, plan: LabPlan, site: str) -> float:
    dc = plan.dc
    idx = topo.index(dc)
    primary = primary_center_links(dc)
    rtt = 0.0
    for name in idx.site_path_to_center(site):
        s = idx.sites[name]
        if s.parent is None:
            lk = primary.get(name)
        else:
            lk = next((x for x in dc.links if {x.a, x.b} == {s.parent, name}), None)
        rtt += lk.latency_ms if lk else 0.0
    return rtt


LINK_CHECK = "round trip matches the links' latency"


def check_links(topo: Topology, plan: LabPlan) -> list[Check]:
    """Reachability and round-trip time of every site against its links' latency,
    measured from the center's router that terminates the site's primary link (the
    management zone need not be allowed to ping the agencies)."""
    dc = plan.dc
    idx = topo.index(dc)
    primary = primary_center_links(dc)
    router_of = {itf.link: dev.name for dev in plan.lab_dc.devices for itf in dev.interfaces
                 if itf.link}
    targets = [s for s in dc.sites if s.router and ("site:" + s.name) in plan.nodes]

    def one(site: Site) -> Check:
        want = _expected_rtt(topo, plan, site.name)
        target = f"{site.name}.{dc.name}"
        top = idx.site_path_to_center(site.name)[-1]
        link = primary.get(top)
        origin = router_of.get(link.name) if link else None
        ns = plan.nodes[origin].netns if origin in plan.nodes else \
            plan.nodes["controller"].netns
        where = f"from {origin or 'the controller'}"
        expected = f"~{want:g} ms"
        argv = ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "5", "-i", "0.2", "-W",
                "2", str(site.router)]
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            return Check.errored(target, "links", LINK_CHECK, f"ping {where} gave no answer "
                                 "within 30 s", expected)
        except OSError as exc:
            return Check.errored(target, "links", LINK_CHECK, f"could not run ping: {exc}",
                                 expected)
        text = (res.stdout + res.stderr).strip()
        m = re.search(r"= ([\d.]+)/([\d.]+)/", res.stdout)
        if not m:
            # Observed: the pings went out and none came back, or the origin has no route
            # to the site (a link down takes its route). Anything else is no observation.
            if "packets transmitted" in res.stdout or "Network is unreachable" in text:
                return Check(target, "links", "site reachable", False, expected,
                             f"unreachable {where}", text[-400:])
            return Check.errored(target, "links", LINK_CHECK, f"ping {where} exit "
                                 f"{res.returncode}: {text[-300:] or 'no output'}", expected)
        # The fastest of five round trips is the path's latency: queueing and a busy
        # scheduler only ever add to a ping (the average of three once read 6.5 ms on a
        # 2 ms link while the machine was loaded), never take from it.
        best, avg = float(m.group(1)), float(m.group(2))
        ok = 0.7 * want <= best <= 1.5 * want + 3.0
        return Check(target, "links", LINK_CHECK, ok, expected,
                     f"{best:.1f} ms (min; avg {avg:.1f}) {where}",
                     res.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, targets))
