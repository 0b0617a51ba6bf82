"""What verify checks of a member of a multi-center lab beyond its own center: the
uplinks to the other centers (OSPF adjacency with the far router, the far centers'
zones routed), and isolation between the centers with real packets
(pesdc.lab.crossprobe), for the probes this center sends or receives."""

from __future__ import annotations

from dataclasses import dataclass

from pesdc.backbone import center_prefixes
from pesdc.lab.group import Group, cross_links
from pesdc.lab.plan import LabPlan, build_plan
from pesdc.model.tree import Topology
from pesdc.verify.checks import Check


@dataclass(frozen=True)
class FarEnd:
    """This center's router on a cross-center uplink, and what it must learn there."""

    router: str  # this center's router holding the uplink
    uplink: str
    subnet: str
    center: str  # the far center
    router_id: str  # the far router's OSPF router id (its neighbour id here)
    prefixes: tuple[str, ...]  # the far center's zones
    next_hop: str = ""  # the far router's address on the uplink: the direct path


def far_ends(topo: Topology, plan: LabPlan) -> list[FarEnd]:
    """The uplinks of this member to the other centers of its lab."""
    group = Group.load(plan.group) if plan.group else None
    if group is None:
        return []
    me = plan.dc.name
    out = []
    for lk in cross_links(topo, group.centers):
        if me not in (lk.lower, lk.upper):
            continue
        mine, far, far_node, hop = (
            (lk.lower_node, lk.upper, lk.upper_node, lk.upper_addr) if lk.lower == me
            else (lk.upper_node, lk.lower, lk.lower_node, lk.lower_addr))
        dev = next(d for d in topo.datacenters[far].devices if d.name == far_node)
        rid = (dev.ospf.router_id if dev.ospf else None) or dev.loopback or dev.mgmt
        out.append(FarEnd(mine, lk.uplink, lk.subnet, far, rid,
                          tuple(center_prefixes(topo.datacenters[far])),
                          hop.split("/")[0]))
    return out


def check_between(topo: Topology, plan: LabPlan) -> list[Check]:
    """The probes between this center and every other center of its lab, from or to
    this center (each member's verify covers its own side of every pair)."""
    from pesdc.lab.crossprobe import JoinedPlan, plan_cross_probes
    from pesdc.lab.probe import run_probes
    from pesdc.verify.network import isolation_checks

    group = Group.load(plan.group) if plan.group else None
    if group is None or len(group.centers) < 2:
        return []
    me = plan.dc.name
    plans = {c: plan if c == me else build_plan(topo, c, group.name) for c in group.centers}
    joined = JoinedPlan("+".join(group.centers), plans)
    probes = [p for p in plan_cross_probes(topo, joined)
              if p.src_zone.startswith(me + "/") or p.dst_zone.startswith(me + "/")]
    run_probes(joined, probes)
    return isolation_checks(probes, "centers")
