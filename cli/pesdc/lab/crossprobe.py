"""Isolation between centers, proved with real packets in a multi-center lab.

A packet from center A to center B leaves A through A's border firewalls into A's
private-network zone, crosses the uplinks, and enters B from B's private-network zone:
it is allowed only when both centers' policies say so (A: its zone -> private network
toward the far address; B: private network -> its zone from the near address). A
source in A's own private-network zone (an agency site) crosses no firewall of A.

What is probed, between every two centers of the lab, both ways:
- every rule of one center whose far side is a server of another center of the lab
  (the cross-center flows: exchange to exchange, reports up, the off-site backup pull),
  and its reverse;
- from every zone of one center (its first server, and one agency site) to every zone
  of the other but its private-network zone (its agency sites are not offered over the
  backbone: pesdc.backbone.center_prefixes): a closed port and a ping;
- into each production and decision zone, every port some rule of that center opens
  into it (for its own agencies, its own zones): another center must not get in.

The probes run with the single-center machinery (pesdc.lab.probe): the same agents,
controls and judgement, over the joined nodes of the members (keys CENTER/NODE).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pesdc.lab.plan import LabPlan, Node
from pesdc.lab.probe import CLOSED_PORT, Probe, ProbeReport, run_probes, zone_members
from pesdc.model.schema import ZoneKind
from pesdc.model.tree import Topology
from pesdc.policy import CenterPolicy

GUARDED = (ZoneKind.production, ZoneKind.decision)


@dataclass
class JoinedPlan:
    """The nodes of several member plans under one key space (CENTER/NODE), what the
    probe runner needs of a plan."""

    name: str
    plans: dict[str, LabPlan]
    nodes: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for center, plan in self.plans.items():
            for key, node in plan.nodes.items():
                self.nodes[f"{center}/{key}"] = replace(node, key=f"{center}/{key}")


def _addr(node: Node) -> str:
    return node.interfaces[0].addresses[0].split("/")[0]


def _pn_zone(policy: CenterPolicy) -> str | None:
    return next((z.name for z in policy.zones.values()
                 if z.kind is ZoneKind.private_network), None)


def expected(src_pol: CenterPolicy, sz: str, dst_pol: CenterPolicy, dz: str, proto: str,
             port: int | None, s: str, d: str) -> bool:
    """Allowed only when the source's center lets it out and the destination's lets
    it in (a source in its own private-network zone crosses no firewall of its own)."""
    src_pn, dst_pn = _pn_zone(src_pol), _pn_zone(dst_pol)
    if src_pn is None or dst_pn is None:
        return False
    out = sz == src_pn or src_pol.allows(sz, src_pn, proto, port, s, d)
    return out and dst_pol.allows(dst_pn, dz, proto, port, s, d)


def plan_cross_probes(topo: Topology, joined: JoinedPlan) -> list[Probe]:
    members: dict[str, dict[str, list[Node]]] = {}
    zone_of: dict[str, tuple[str, str]] = {}  # address -> (center, zone) of a member node
    for center, plan in joined.plans.items():
        zm = zone_members(topo, plan)
        members[center] = {z: [joined.nodes[f"{center}/{n.key}"] for n in nodes]
                           for z, nodes in zm.items()}
        for z, nodes in members[center].items():
            for n in nodes:
                zone_of.setdefault(_addr(n), (center, z))
    policies = {c: p.facts.policy for c, p in joined.plans.items()}
    probes: list[Probe] = []
    seen: set[tuple[str, str, str, int]] = set()

    def add(src: Node, sc: str, sz: str, dst: Node, dc: str, dz: str, proto: str,
            port: int, why: str) -> None:
        s, d = _addr(src), _addr(dst)
        key = (s, d, proto, port)
        if key in seen or sc == dc:
            return
        seen.add(key)
        p = port if proto != "icmp" else None
        probes.append(Probe(f"{sc}/{sz}", f"{dc}/{dz}", src.key, dst.key, s, d, dst.key, d,
                            proto, p or 0, why,
                            expected(policies[sc], sz, policies[dc], dz, proto, p, s, d)))

    def first_in(nodes: list[Node], nets: tuple[str, ...]) -> Node | None:
        import ipaddress

        networks = [ipaddress.ip_network(n) for n in nets]
        return next((n for n in nodes if any(ipaddress.ip_address(_addr(n)) in net
                                             for net in networks)), None)

    # The cross-center rules: a side whose addresses are servers of another center.
    for c, pol in policies.items():
        pn = _pn_zone(pol)
        for rule in pol.rules:
            proto = "tcp" if rule.protocol == "any" else rule.protocol
            for port in rule.ports or (CLOSED_PORT,):
                if rule.dst_zone == pn:
                    src = first_in(members[c].get(rule.src_zone, []), rule.src_nets)
                    for net in rule.dst_nets:
                        far = zone_of.get(net.split("/")[0])
                        if src is None or far is None or far[0] == c:
                            continue
                        there = joined.nodes[f"{far[0]}/{_key_at(joined, far[0], net)}"]
                        add(src, c, rule.src_zone, there, far[0], far[1], proto, port,
                            f"flow {c}/{rule.name}")
                        add(there, far[0], far[1], src, c, rule.src_zone, proto, port,
                            f"reverse of {c}/{rule.name}")
                if rule.src_zone == pn:
                    dst = first_in(members[c].get(rule.dst_zone, []), rule.dst_nets)
                    for net in rule.src_nets:
                        far = zone_of.get(net.split("/")[0])
                        if dst is None or far is None or far[0] == c:
                            continue
                        here = joined.nodes[f"{far[0]}/{_key_at(joined, far[0], net)}"]
                        add(here, far[0], far[1], dst, c, rule.dst_zone, proto, port,
                            f"flow {c}/{rule.name}")
                        add(dst, c, rule.dst_zone, here, far[0], far[1], proto, port,
                            f"reverse of {c}/{rule.name}")
    # Every zone of one center to every zone of another: a closed port and a ping; into
    # a guarded zone, every port its own center opens into it for someone else.
    for a in joined.plans:
        for b in joined.plans:
            if a == b:
                continue
            guarded_ports = {z: sorted({p for r in policies[b].rules if r.dst_zone == z
                                        for p in r.ports if r.protocol == "tcp"})
                             for z, info in policies[b].zones.items() if info.kind in GUARDED}
            for za, srcs in members[a].items():
                if not srcs:
                    continue
                for zb, dsts in members[b].items():
                    if not dsts or policies[b].zones[zb].kind is ZoneKind.private_network:
                        continue  # its agency sites are its own business, not offered
                    add(srcs[0], a, za, dsts[0], b, zb, "tcp", CLOSED_PORT, "closed port")
                    add(srcs[0], a, za, dsts[0], b, zb, "icmp", 0, "ping")
                    for port in guarded_ports.get(zb, []):
                        for dst in dsts[:1]:
                            add(srcs[0], a, za, dst, b, zb, "tcp", port,
                                f"{b}'s own {zb} port")
    return probes


def _key_at(joined: JoinedPlan, center: str, net: str) -> str:
    addr = net.split("/")[0]
    plan = joined.plans[center]
    return next(k for k, n in plan.nodes.items()
                if n.interfaces and _addr(n) == addr)


def probe_centers(topo: Topology, plans: dict[str, LabPlan]) -> ProbeReport:
    joined = JoinedPlan("+".join(plans), plans)
    return run_probes(joined, plan_cross_probes(topo, joined))
