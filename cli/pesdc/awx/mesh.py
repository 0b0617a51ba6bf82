"""The automation mesh of the national estate, from the tree.

Every center sits behind its own firewalls and is reached through its bastion, so a job
for a center runs on an execution node on that center's bastion host (a Linux server
with role ``bastion``; a bastion appliance cannot run Receptor). Each province has one
hop node that relays between the controller and the execution nodes of the province's
own center and of its cities: those nodes connect out to the hop (``peers``), the
controller connects to the hop (``peers_from_control_nodes``), so no city has to admit a
connection from outside its province. The ministry's node is peered by the controller
directly. One instance group per center holds its node: a job template pinned to it
runs nowhere else (``prevent_instance_group_fallback``).

A hosted city (``hosted_by``) has no center of its own and so no node; a center without
a bastion server gets none either, and the layout says why (``skipped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pesdc.model.diagnostics import N_, Phrase
from pesdc.model.schema import DataCenter, ServerRole, Tier
from pesdc.model.tree import Topology
from pesdc.render.context import hostname

RECEPTOR_PORT = 27199  # Receptor's default listener port
LAB_GROUP = "pesdc-lab"  # rehearsals: a lab host (root, namespaces), assigned by hand


@dataclass(frozen=True)
class Node:
    """One AWX instance: an execution node on a bastion, or a province's hop node."""

    hostname: str
    node_type: str  # "execution" or "hop"
    center: str  # the center it serves (a hop: its province)
    province: str | None  # the province it relays through (None: the ministry)
    address: str | None  # the bastion's address; a hop's host is not in the topology
    peers: tuple[str, ...] = ()
    listener_port: int | None = None
    peers_from_control_nodes: bool = False


@dataclass(frozen=True)
class Group:
    """An instance group pinning one center's jobs to its execution node."""

    name: str
    center: str
    instances: tuple[str, ...]


@dataclass
class Mesh:
    hops: list[Node] = field(default_factory=list)
    executions: list[Node] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # center -> why it has no node
    # the same reasons as catalog templates, for the command line's language (skipped is
    # what mesh.yml says: English)
    reasons: dict[str, Phrase] = field(default_factory=dict)

    def skip(self, center: str, template: str, **args: object) -> None:
        self.reasons[center] = Phrase(template, dict(args))
        self.skipped[center] = str(self.reasons[center])

    def node_of(self, center: str) -> Node | None:
        return next((n for n in self.executions if n.center == center), None)


def hop_name(province: str) -> str:
    return f"awx-hop.{province}"


def province_of(topo: Topology, dc: DataCenter) -> str | None:
    """The province a center's traffic relays through (None for the ministry)."""
    if dc.tier is Tier.ministry:
        return None
    if dc.tier is Tier.province:
        return dc.name
    parent = topo.datacenters.get(dc.parent or "")
    return parent.name if parent is not None and parent.tier is Tier.province else None


def bastion_server(dc: DataCenter) -> tuple[str, str] | None:
    """(name, address) of the center's first bastion server by name: the node's host."""
    found = sorted((s.name, s.address) for s in dc.servers if ServerRole.bastion in s.roles)
    return found[0] if found else None


def _execution_node(topo: Topology, dc: DataCenter, host: tuple[str, str]) -> Node:
    province = province_of(topo, dc)
    name = hostname(dc, host[0])
    if province is None:  # the ministry: the controller peers to it directly
        return Node(name, "execution", dc.name, None, host[1], (), RECEPTOR_PORT, True)
    return Node(name, "execution", dc.name, province, host[1], (hop_name(province),))


def build_mesh(topo: Topology, dcs: list[DataCenter]) -> Mesh:
    """The layout for ``dcs`` (tier order): their nodes, their provinces' hops, groups."""
    mesh = Mesh()
    provinces: set[str] = set()
    for dc in dcs:
        if dc.hosted_by:
            mesh.skip(dc.name, N_("hosted by {host}: its jobs run on that node"),
                      host=dc.hosted_by)
            continue
        host = bastion_server(dc)
        if host is None:
            mesh.skip(dc.name, N_("no bastion server (a server with role bastion)"))
            continue
        node = _execution_node(topo, dc, host)
        if node.province is None and dc.tier is not Tier.ministry:
            mesh.skip(dc.name, N_("its parent is not a province center of the tree"))
            continue
        mesh.executions.append(node)
        mesh.groups.append(Group(dc.name, dc.name, (node.hostname,)))
        if node.province:
            provinces.add(node.province)
    mesh.hops = [Node(hop_name(p), "hop", p, p, None, (), RECEPTOR_PORT, True)
                 for p in sorted(provinces)]
    return mesh


def mesh_document(mesh: Mesh) -> dict[str, object]:
    """mesh.yml: the layout as data, for review and for the install bundles."""
    return {
        "receptor_port": RECEPTOR_PORT,
        "hop_nodes": [{"hostname": n.hostname, "province": n.center,
                       "listener_port": n.listener_port,
                       "peers_from_control_nodes": True,
                       "host": "not in the topology: a host of the province center's "
                               "private network zone that the controller and the "
                               "province's cities can reach"}
                      for n in mesh.hops],
        "execution_nodes": [{"hostname": n.hostname, "center": n.center,
                             "address": n.address, "peers": list(n.peers),
                             "listener_port": n.listener_port,
                             "peers_from_control_nodes": n.peers_from_control_nodes}
                            for n in mesh.executions],
        "instance_groups": [{"name": g.name, "instances": list(g.instances)}
                            for g in mesh.groups]
                           + [{"name": LAB_GROUP, "instances": [],
                               "note": "rehearsals run in a lab: add a lab host (root, "
                                       "network namespaces, pesdc lab image) by hand"}],
        "without_node": dict(sorted(mesh.skipped.items())),
    }
