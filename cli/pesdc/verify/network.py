"""Network checks: isolation by real packets, the firewall policy read back from the
devices, configuration drift, routing neighbours and routes, municipal link latency.

All commands reach the gear over SSH from the controller (the lab's ssh_config): what
an engineer would do against real devices, not a peek into the namespaces.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pesdc.lab.plan import LabPlan
from pesdc.lab.probe import plan_probes, run_probes
from pesdc.model.schema import DeviceKind, Site
from pesdc.model.tree import Topology
from pesdc.render.context import primary_center_links
from pesdc.verify.checks import Check


def ssh(ssh_config: Path, host: str, command: str, timeout: float = 30) -> tuple[int, str]:
    res = subprocess.run(["ssh", "-F", str(ssh_config), host, command], capture_output=True,
                         text=True, timeout=timeout)
    return res.returncode, res.stdout + res.stderr


def check_isolation(topo: Topology, plan: LabPlan) -> list[Check]:
    """A check per probe (pesdc.lab.probe): blocked only with the controls of the same
    run behind it; a probe without a verdict (its source could not send, its listener
    did not answer, its client crashed) is an error naming that side."""
    probes = plan_probes(topo, plan)
    run_probes(plan, probes)
    out = []
    for p in probes:
        target = f"{p.src_zone} -> {p.dst_zone}"
        name = f"{p.protocol}/{p.port} {p.src} -> {p.dst} ({p.why})"
        expected = "allowed" if p.expected else "blocked"
        if p.cause:  # the probe's verdict is error
            out.append(Check.errored(target, "isolation", name, p.cause, expected,
                                     p.detail))
            continue
        seen = "passed" if p.observed else "blocked"
        out.append(Check(target, "isolation", name, p.ok, expected, seen, p.evidence))
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


def check_policy(plan: LabPlan, ssh_config: Path, rendered: dict[str, str]) -> list[Check]:
    """Each firewall's running forward policy equals the rendered one, rule for rule."""
    out = []
    for name, text in sorted(rendered.items()):
        node = plan.nodes[name]
        rc, raw = ssh(ssh_config, node.host, "nft -j list ruleset")
        if rc != 0:
            out.append(Check(node.host, "policy", "firewall policy readable", False,
                             "nft ruleset", raw[-300:]))
            continue
        want = expected_accepts(text)
        have, anonymous = running_accepts(raw)
        missing, extra = sorted(want - have), sorted(have - want)
        ok = not missing and not extra and anonymous == 0
        observed = "as rendered" if ok else "; ".join(
            [f"missing: {', '.join(missing)}"] * bool(missing) +
            [f"extra: {', '.join(extra)}"] * bool(extra) +
            [f"{anonymous} accept rule(s) pesdc did not write"] * bool(anonymous))
        out.append(Check(node.host, "policy", "forward policy equals the rendered one", ok,
                         f"{len(want)} allow rules, default deny", observed,
                         "" if ok else _nft_text(ssh_config, node.host)))
    return out


def _nft_text(ssh_config: Path, host: str) -> str:
    return ssh(ssh_config, host, "nft list chain inet pesdc forward")[1][-1500:]


def check_routing(topo: Topology, plan: LabPlan, ssh_config: Path) -> list[Check]:
    dc = plan.lab_dc
    out = []
    routers = [d for d in dc.devices if d.kind is DeviceKind.router and d.ospf is not None]
    sites = [s for s in dc.sites if s.subnet]
    for dev in routers:
        host = f"{dev.name}.{plan.dc.name}"
        rc, raw = ssh(ssh_config, host, "show ip ospf neighbor json")
        try:
            neighbors = json.loads(raw).get("neighbors", {}) if rc == 0 else {}
        except json.JSONDecodeError:
            neighbors = {}
        expected = {d.ospf.router_id or d.loopback or d.mgmt for d in routers
                    if d is not dev and d.ospf is not None}
        expected |= {u.peer_address for u in dc.uplinks for i in dev.interfaces
                     if i.uplink == u.name and u.peer_address}
        full = {rid for rid, adj in neighbors.items()
                if any("Full" in a.get("nbrState", a.get("state", "")) for a in adj)}
        ok = expected <= full
        out.append(Check(host, "routing", "OSPF neighbours Full", ok,
                         ", ".join(sorted(x for x in expected if x)),
                         ", ".join(sorted(full)) or "none", raw[-1500:]))
        rc, raw = ssh(ssh_config, host, "show ip route json")
        try:
            table = json.loads(raw) if rc == 0 else {}
        except json.JSONDecodeError:
            table = {}
        missing = [s.name for s in sites if s.subnet not in table]
        out.append(Check(host, "routing", f"routes to all {len(sites)} sites", not missing,
                         "a route to every site subnet",
                         f"missing: {', '.join(missing)}" if missing else "all present"))
    return out


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
        res = subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "5", "-i",
                              "0.2", "-W", "2", str(site.router)],
                             capture_output=True, text=True, timeout=30)
        m = re.search(r"= ([\d.]+)/([\d.]+)/", res.stdout)
        where = f"from {origin or 'the controller'}"
        if not m:
            return Check(target, "links", "site reachable", False, f"~{want:g} ms",
                         f"unreachable {where}", res.stdout[-400:])
        # The fastest of five round trips is the path's latency: queueing and a busy
        # scheduler only ever add to a ping (the average of three once read 6.5 ms on a
        # 2 ms link while the machine was loaded), never take from it.
        best, avg = float(m.group(1)), float(m.group(2))
        ok = 0.7 * want <= best <= 1.5 * want + 3.0
        return Check(target, "links", "round trip matches the links' latency", ok,
                     f"~{want:g} ms", f"{best:.1f} ms (min; avg {avg:.1f}) {where}",
                     res.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, targets))
